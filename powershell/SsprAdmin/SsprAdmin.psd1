@{
    # The module over the `sspr` command line: one cmdlet per CLI operation. Its version is the
    # CLI's: Invoke-SsprCli refuses a binary of another version.
    RootModule           = 'SsprAdmin.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '0d012dde-68eb-4208-8a7b-ad3cf2f8fae8'
    Author               = 'The sspr authors'
    Description          = 'Manage Entra ID self-service password reset (SSPR) for one tenant or hundreds through the sspr service: policies, registrations, registration protection, tenants and access.'
    PowerShellVersion    = '7.2'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('SsprAdmin.Format.ps1xml')
    # Explicit, no wildcards: the static checks and the meta tests hold this list to Public/.
    FunctionsToExport    = @(
        'Add-SsprTenant',
        'Compare-SsprPolicy',
        'Connect-Sspr',
        'Disable-SsprRegistrationProtection',
        'Disconnect-Sspr',
        'Enable-SsprRegistrationProtection',
        'Get-SsprAccessGrant',
        'Get-SsprAuditRecord',
        'Get-SsprPartnerCustomer',
        'Get-SsprPolicy',
        'Get-SsprReadiness',
        'Get-SsprRegistration',
        'Get-SsprRegistrationProtection',
        'Get-SsprRegistrationProtectionTemplate',
        'Get-SsprRegistrationSummary',
        'Get-SsprTenant',
        'Get-SsprTenantConsentUrl',
        'Get-SsprUserGuide',
        'Get-SsprWindowsResetLink',
        'Get-SsprWindowsResetLinkScript',
        'Grant-SsprAccess',
        'New-SsprRegistrationProtectionPlan',
        'New-SsprWindowsResetLinkPlan',
        'Remove-SsprTenant',
        'Revoke-SsprAccess',
        'Set-SsprPolicy',
        'Set-SsprRegistrationProtection',
        'Set-SsprTenant',
        'Set-SsprWindowsResetLink',
        'Test-SsprTenant'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('EntraID', 'SSPR', 'PasswordReset', 'ConditionalAccess', 'MSP', 'Linux', 'MacOS', 'Windows')
        }
    }
}
