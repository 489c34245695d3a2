function Get-SsprWindowsResetLink {
    <#
    .SYNOPSIS
    Gets whether the Windows sign-in screen shows the "Reset password" link in a tenant.

    .DESCRIPTION
    sspr windows-reset-link status: the Intune policies (settings catalog and custom OMA-URI
    profiles) that set AllowAadPasswordReset, their assignments, the verdict (pass, warn, fail;
    unknown without an Intune licence or DeviceManagementConfiguration.Read.All) and the registry
    alternative for devices outside Intune.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .EXAMPLE
    Get-SsprWindowsResetLink -Tenant contoso.onmicrosoft.com

    .EXAMPLE
    Get-SsprTenant | Get-SsprWindowsResetLink | Where-Object Status -ne 'pass'
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.WindowsResetLink')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant
    )
    process {
        $arguments = @('windows-reset-link', 'status', '--tenant', $Tenant)
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.WindowsResetLink'
    }
}
