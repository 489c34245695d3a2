function Set-SsprWindowsResetLink {
    <#
    .SYNOPSIS
    Deploys sspr's Intune policy that shows the "Reset password" link on the Windows sign-in
    screen.

    .DESCRIPTION
    sspr windows-reset-link apply (needs SSPR.ReadWrite, and DeviceManagementConfiguration.ReadWrite.All
    in the tenant): creates the settings-catalog policy named "sspr - Windows sign-in SSPR link",
    or re-assigns it; never makes a copy. -WhatIf shows the CLI's plan (the exact JSON and calls)
    and changes nothing; without -Confirm:$false the plan is shown and you are asked first.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER Group
    Assign the policy to the devices of this group (its object id) instead of all devices.

    .EXAMPLE
    Set-SsprWindowsResetLink -Tenant contoso.onmicrosoft.com -WhatIf

    .EXAMPLE
    Set-SsprWindowsResetLink -Tenant contoso.onmicrosoft.com -Group 0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.WindowsResetLinkChange')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [string] $Group
    )
    process {
        $arguments = @('windows-reset-link', 'apply', '--tenant', $Tenant)
        if ($Group) {
            $arguments += @('--group', $Group)
        } else {
            $arguments += @('--all-devices')
        }
        Invoke-SsprPlannedChange -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant `
            -Action 'Deploy the Windows sign-in reset link policy' -TypeName 'SsprAdmin.WindowsResetLinkChange'
    }
}
