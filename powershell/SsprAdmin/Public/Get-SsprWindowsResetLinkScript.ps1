function Get-SsprWindowsResetLinkScript {
    <#
    .SYNOPSIS
    Gets the registry alternative for devices outside Intune: a .reg file or a PowerShell
    remediation script.

    .DESCRIPTION
    sspr windows-reset-link script: the text of a file that sets
    HKLM\SOFTWARE\Policies\Microsoft\AzureADAccount AllowPasswordReset = 1 (DWORD). The
    PowerShell script takes -DetectOnly (exit 0 when set, 1 when not), as an Intune remediation's
    detection does.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER Format
    reg (the default) or powershell.

    .EXAMPLE
    Get-SsprWindowsResetLinkScript -Tenant contoso.onmicrosoft.com -Format powershell | Set-Content -Path sspr-link.ps1

    .EXAMPLE
    Get-SsprWindowsResetLinkScript -Tenant contoso.onmicrosoft.com | Set-Content -Path sspr-link.reg
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [ValidateSet('reg', 'powershell')] [string] $Format = 'reg'
    )
    process {
        $arguments = @('windows-reset-link', 'script', '--tenant', $Tenant, '--format', $Format)
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant -Text
    }
}
