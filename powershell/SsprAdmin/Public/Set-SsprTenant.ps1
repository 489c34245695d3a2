function Set-SsprTenant {
    <#
    .SYNOPSIS
    Changes an onboarded tenant: its name, domains, tags or credential.

    .DESCRIPTION
    What is given replaces what was; the rest stays (sspr tenants update; needs SSPR.Admin). A
    tenant of the service's configuration file is read-only. A client secret (-ClientSecret)
    goes to the CLI on its standard input.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Id in the pipeline).

    .PARAMETER ClearTag
    Removes every tag.

    .PARAMETER CredentialKind
    A new credential: default, client-secret, certificate, workload-identity or managed-identity.

    .PARAMETER AppId
    The client id of the app the service signs in as.

    .PARAMETER ClientSecret
    The app's client secret, sent through standard input.

    .PARAMETER ClientSecretFile
    A file on the service's host holding the client secret.

    .PARAMETER CertificatePem
    A local certificate file (PEM), stored encrypted by the service.

    .PARAMETER PrivateKeyPem
    A local private key file (PEM) of -CertificatePem.

    .PARAMETER CertificateFile
    A certificate file on the service's host.

    .PARAMETER PrivateKeyFile
    A private key file on the service's host.

    .PARAMETER TokenFile
    The projected service-account token file on the service's host.

    .PARAMETER IdentityClientId
    The client id of the user-assigned managed identity.

    .PARAMETER DisplayName
    The name to show.

    .PARAMETER Domain
    The domains the tenant can be named by (replaces the list).

    .PARAMETER Tag
    The tags (replaces the list).

    .EXAMPLE
    Set-SsprTenant -Tenant tailspin.onmicrosoft.com -Tag 'region:eu', 'tier:gold' -Confirm:$false

    .EXAMPLE
    Get-SsprTenant -Tag 'region:us' | Set-SsprTenant -ClearTag -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.Tenant')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Id')]
        [string] $Tenant,
        [switch] $ClearTag,
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
        $arguments = @('tenants', 'update', '--tenant', $Tenant)
        $arguments += Get-SsprTenantDetailArgument -Bound $PSBoundParameters
        if ($ClearTag) {
            $arguments += @('--clear-tags')
        }
        $arguments += Get-SsprCredentialArgument -Bound $PSBoundParameters
        if ($PSCmdlet.ShouldProcess($Tenant, 'Update the tenant')) {
            Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant -InputSecret $ClientSecret |
                Add-SsprTypeName -TypeName 'SsprAdmin.Tenant'
        }
    }
}
