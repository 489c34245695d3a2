function New-SsprRegistrationProtectionPlan {
    <#
    .SYNOPSIS
    Plans the Conditional Access policy that guards security-info registration for a tenant.

    .DESCRIPTION
    sspr registration-protection plan (needs Entra ID P1 or P2): the policy's Graph JSON,
    findings (e.g. block without any trusted location would block everyone), the break-glass
    accounts it excludes and the users who must still register. Changes nothing.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

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
    New-SsprRegistrationProtectionPlan -Tenant contoso.onmicrosoft.com -Control mfa

    .EXAMPLE
    (New-SsprRegistrationProtectionPlan -Tenant contoso.onmicrosoft.com).Findings
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.RegistrationProtectionPlan')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [ValidateSet('block', 'mfa', 'compliant-device', 'domain-joined-device')] [string] $Control,
        [string[]] $TrustedLocation,
        [string[]] $ExcludeUser,
        [string[]] $ExcludeGroup,
        [switch] $NoDiscovery,
        [ValidateSet('include', 'exclude')] [string] $Guests,
        [string] $DisplayName,
        [ValidateSet('report-only', 'enabled')] [string] $State
    )
    process {
        $arguments = @('registration-protection', 'plan', '--tenant', $Tenant)
        $arguments += Get-SsprProtectionOptionArgument -Bound $PSBoundParameters
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant |
            Add-SsprTypeName -TypeName 'SsprAdmin.RegistrationProtectionPlan'
    }
}
