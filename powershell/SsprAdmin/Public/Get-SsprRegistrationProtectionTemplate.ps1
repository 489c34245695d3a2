function Get-SsprRegistrationProtectionTemplate {
    <#
    .SYNOPSIS
    Gets the registration-protection policy's Graph JSON for the options, without reading any
    tenant.

    .DESCRIPTION
    sspr registration-protection generate: the policy and its findings, for review or for
    deploying by other means.

    .PARAMETER Control
    What registration outside the trusted locations needs: block (the service's default), mfa,
    compliant-device or domain-joined-device.

    .PARAMETER TrustedLocation
    Locations exempted from the control: AllTrusted, named-location ids, or none.

    .PARAMETER ExcludeUser
    Break-glass user object ids to exclude.

    .PARAMETER ExcludeGroup
    Break-glass group object ids to exclude.

    .PARAMETER NoDiscovery
    Do not also exclude the accounts most of the tenant's CA policies exclude.

    .PARAMETER Guests
    Cover guests and external users (include), or not (exclude, the default).

    .PARAMETER DisplayName
    The policy's name (the service appends its marker).

    .PARAMETER State
    The policy's state: report-only or enabled.

    .EXAMPLE
    (Get-SsprRegistrationProtectionTemplate -Control mfa).Policy | ConvertTo-Json -Depth 10

    .EXAMPLE
    Get-SsprRegistrationProtectionTemplate -Control block -TrustedLocation AllTrusted
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.RegistrationProtectionTemplate')]
    param(
        [ValidateSet('block', 'mfa', 'compliant-device', 'domain-joined-device')] [string] $Control,
        [string[]] $TrustedLocation,
        [string[]] $ExcludeUser,
        [string[]] $ExcludeGroup,
        [switch] $NoDiscovery,
        [ValidateSet('include', 'exclude')] [string] $Guests,
        [string] $DisplayName,
        [ValidateSet('report-only', 'enabled')] [string] $State
    )
    $arguments = @('registration-protection', 'generate')
    $arguments += Get-SsprProtectionOptionArgument -Bound $PSBoundParameters
    Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet | Add-SsprTypeName -TypeName 'SsprAdmin.RegistrationProtectionTemplate'
}
