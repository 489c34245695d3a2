function Disconnect-Sspr {
    <#
    .SYNOPSIS
    Forgets the service and the sign-in Connect-Sspr kept, with its secrets.

    .DESCRIPTION
    After it the cmdlets use the SSPR_* environment variables again, as the sspr CLI does. The
    CLI caches tokens only in its own process, so nothing else is left behind.

    .EXAMPLE
    Disconnect-Sspr
    #>
    [CmdletBinding()]
    [OutputType([void])]
    param()
    $script:SsprSession = $null
}
