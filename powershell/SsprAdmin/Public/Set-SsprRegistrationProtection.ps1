function Set-SsprRegistrationProtection {
    <#
    .SYNOPSIS
    Deploys the registration-protection policy: creates it report-only, or updates the one with
    the marker, keeping its state.

    .DESCRIPTION
    sspr registration-protection apply (needs SSPR.ReadWrite). Never makes a duplicate. -WhatIf
    shows the CLI's plan (the diff against the deployed policy and the exact Graph call) and
    changes nothing; without -Confirm:$false the plan is shown and you are asked first. A change
    of the control or conditions of an enforced policy is refused unless -Force.

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

    .PARAMETER Force
    Go ahead although enforcing has errors, or although the policy is enforced and this changes
    its control or conditions.

    .EXAMPLE
    Set-SsprRegistrationProtection -Tenant contoso.onmicrosoft.com -Control mfa -WhatIf

    .EXAMPLE
    Set-SsprRegistrationProtection -Tenant contoso.onmicrosoft.com -Control mfa -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.RegistrationProtectionChange')]
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
        [ValidateSet('report-only', 'enabled')] [string] $State,
        [switch] $Force
    )
    process {
        $arguments = @('registration-protection', 'apply', '--tenant', $Tenant)
        $arguments += Get-SsprProtectionOptionArgument -Bound $PSBoundParameters
        if ($Force) {
            $arguments += @('--force')
        }
        Invoke-SsprPlannedChange -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant `
            -Action 'Deploy the registration-protection policy' -TypeName 'SsprAdmin.RegistrationProtectionChange'
    }
}
