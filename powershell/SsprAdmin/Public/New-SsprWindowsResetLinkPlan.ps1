function New-SsprWindowsResetLinkPlan {
    <#
    .SYNOPSIS
    Plans sspr's Intune policy that shows the "Reset password" link on the Windows sign-in screen.

    .DESCRIPTION
    sspr windows-reset-link plan: the exact settings-catalog JSON of the policy, the exact
    assignment, the Graph calls a deploy makes and whether it would create, update or leave the
    policy. Changes nothing.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER Group
    Assign the policy to the devices of this group (its object id) instead of all devices.

    .EXAMPLE
    New-SsprWindowsResetLinkPlan -Tenant contoso.onmicrosoft.com

    .EXAMPLE
    (New-SsprWindowsResetLinkPlan -Tenant contoso.onmicrosoft.com -Group 0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e).Calls
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.WindowsResetLinkPlan')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [string] $Group
    )
    process {
        $arguments = @('windows-reset-link', 'plan', '--tenant', $Tenant)
        if ($Group) {
            $arguments += @('--group', $Group)
        } else {
            $arguments += @('--all-devices')
        }
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.WindowsResetLinkPlan'
    }
}
