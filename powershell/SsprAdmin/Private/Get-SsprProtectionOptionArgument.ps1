function Get-SsprProtectionOptionArgument {
    <#
    .SYNOPSIS
    The policy options of `sspr registration-protection plan`, `apply` and `generate` for the
    bound parameters of the cmdlets over them.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory)] [hashtable] $Bound)
    $arguments = @()
    if ($Bound.ContainsKey('Control')) {
        $arguments += @('--control', $Bound['Control'])
    }
    if ($Bound.ContainsKey('TrustedLocation')) {
        $arguments += @('--trusted-locations', (@($Bound['TrustedLocation']) -join ','))
    }
    if ($Bound.ContainsKey('ExcludeUser')) {
        $arguments += @('--exclude-users', (@($Bound['ExcludeUser']) -join ','))
    }
    if ($Bound.ContainsKey('ExcludeGroup')) {
        $arguments += @('--exclude-groups', (@($Bound['ExcludeGroup']) -join ','))
    }
    if ($Bound.ContainsKey('NoDiscovery') -and $Bound['NoDiscovery']) {
        $arguments += @('--no-discovery')
    }
    if ($Bound.ContainsKey('Guests')) {
        $arguments += @('--guests', $Bound['Guests'])
    }
    if ($Bound.ContainsKey('DisplayName')) {
        $arguments += @('--display-name', $Bound['DisplayName'])
    }
    if ($Bound.ContainsKey('State')) {
        $arguments += @('--state', $Bound['State'])
    }
    $arguments
}
