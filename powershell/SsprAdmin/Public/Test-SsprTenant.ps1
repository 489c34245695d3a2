function Test-SsprTenant {
    <#
    .SYNOPSIS
    Verifies what the service may do in a tenant: its app's permissions there, per feature.

    .DESCRIPTION
    Gets a fresh token for the tenant and reads the application permissions it grants (sspr
    tenants verify): each feature available or not, with the permissions still to consent to.
    A tenant where some features are unavailable gives its verdict and a warning naming them; a
    tenant the service gets no token for gives a non-terminating error Sspr.noToken.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .EXAMPLE
    Test-SsprTenant -Tenant tailspin.onmicrosoft.com

    .EXAMPLE
    Get-SsprTenant | Test-SsprTenant | Where-Object { -not $_.TokenIssued }
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.TenantVerification')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant
    )
    process {
        $arguments = @('tenants', 'verify', '--tenant', $Tenant)
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant -WarningExitCode 8 |
            Add-SsprTypeName -TypeName 'SsprAdmin.TenantVerification'
    }
}
