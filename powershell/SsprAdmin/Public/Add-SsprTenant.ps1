function Add-SsprTenant {
    <#
    .SYNOPSIS
    Onboards a customer tenant, with the credential the service signs in to it with.

    .DESCRIPTION
    The tenant is usable at once, without a restart of the service (sspr tenants add; needs
    SSPR.Admin). A client secret (-ClientSecret) goes to the CLI on its standard input, never on
    its command line. Next: Get-SsprTenantConsentUrl for the customer's administrator, then
    Test-SsprTenant.

    .PARAMETER Tenant
    The tenant's id or a domain of it (resolved through OIDC discovery); binds from a partner
    customer's TenantId in the pipeline.

    .PARAMETER CredentialKind
    How the service signs in to the tenant: default (the service-wide app), client-secret,
    certificate, workload-identity or managed-identity.

    .PARAMETER AppId
    The client id of the app the service signs in as (every kind but default).

    .PARAMETER ClientSecret
    The app's client secret (client-secret), sent through standard input.

    .PARAMETER ClientSecretFile
    A file on the service's host holding the client secret (client-secret).

    .PARAMETER CertificatePem
    A local certificate file (PEM), read here and stored encrypted by the service (certificate).

    .PARAMETER PrivateKeyPem
    A local private key file (PEM) of -CertificatePem (certificate).

    .PARAMETER CertificateFile
    A certificate file on the service's host (certificate).

    .PARAMETER PrivateKeyFile
    A private key file on the service's host (certificate).

    .PARAMETER TokenFile
    The projected service-account token file on the service's host (workload-identity).

    .PARAMETER IdentityClientId
    The client id of the user-assigned managed identity (managed-identity).

    .PARAMETER DisplayName
    The name to show (default: the domain given, else the id).

    .PARAMETER Domain
    Further domains the tenant can be named by.

    .PARAMETER Tag
    Tags such as region:eu, selectable as tag:region:eu in grants.

    .EXAMPLE
    Add-SsprTenant -Tenant tailspin.onmicrosoft.com -CredentialKind default -Tag 'region:us' -Confirm:$false

    .EXAMPLE
    Get-SsprPartnerCustomer | Where-Object { -not $_.Onboarded } | Add-SsprTenant -CredentialKind default -Confirm:$false

    Onboards every GDAP customer not onboarded yet, with the service-wide app.

    .EXAMPLE
    $secret = Read-Host -AsSecureString 'Client secret'
    Add-SsprTenant -Tenant adatum.com -CredentialKind client-secret -AppId '6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b' -ClientSecret $secret
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.Tenant')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('TenantId')]
        [string] $Tenant,
        [Parameter(Mandatory)]
        [ValidateSet('default', 'client-secret', 'certificate', 'workload-identity', 'managed-identity')]
        [string] $CredentialKind,
        [string] $AppId,
        [securestring] $ClientSecret,
        [string] $ClientSecretFile,
        [string] $CertificatePem,
        [string] $PrivateKeyPem,
        [string] $CertificateFile,
        [string] $PrivateKeyFile,
        [string] $TokenFile,
        [string] $IdentityClientId,
        [string] $DisplayName,
        [string[]] $Domain,
        [string[]] $Tag
    )
    process {
        $arguments = @('tenants', 'add', '--tenant', $Tenant)
        $arguments += Get-SsprTenantDetailArgument -Bound $PSBoundParameters
        $arguments += Get-SsprCredentialArgument -Bound $PSBoundParameters
        if ($PSCmdlet.ShouldProcess($Tenant, "Onboard with credential $CredentialKind")) {
            Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant -InputSecret $ClientSecret |
                Add-SsprTypeName -TypeName 'SsprAdmin.Tenant'
        }
    }
}
