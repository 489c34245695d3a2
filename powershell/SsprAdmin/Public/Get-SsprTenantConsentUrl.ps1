function Get-SsprTenantConsentUrl {
    <#
    .SYNOPSIS
    Gets the admin consent link to send to a tenant's administrator.

    .DESCRIPTION
    sspr tenants consent-url: the v2 /adminconsent link for the app the service signs in to the
    tenant with, and the permissions it asks for.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER RedirectUri
    Where the administrator lands after consenting (default: the service's).

    .EXAMPLE
    (Get-SsprTenantConsentUrl -Tenant tailspin.onmicrosoft.com).Url

    .EXAMPLE
    Get-SsprTenantConsentUrl -Tenant tailspin.onmicrosoft.com -RedirectUri 'https://msp.example/consented'
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.ConsentLink')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [uri] $RedirectUri
    )
    process {
        $arguments = @('tenants', 'consent-url', '--tenant', $Tenant)
        if ($RedirectUri) {
            $arguments += @('--redirect-uri', $RedirectUri.AbsoluteUri)
        }
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.ConsentLink'
    }
}
