function Get-SsprCredentialArgument {
    <#
    .SYNOPSIS
    The credential flags of `sspr tenants add` and `tenants update` for the bound parameters of
    Add-SsprTenant or Set-SsprTenant. A client secret is not among them: it goes to the CLI's
    standard input (--client-secret-stdin), never on its command line.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory)] [hashtable] $Bound)
    $arguments = @()
    if ($Bound.ContainsKey('CredentialKind')) {
        $arguments += @('--credential', $Bound['CredentialKind'])
    }
    if ($Bound.ContainsKey('AppId')) {
        $arguments += @('--app-id', $Bound['AppId'])
    }
    if ($Bound.ContainsKey('ClientSecret')) {
        $arguments += @('--client-secret-stdin')
    }
    if ($Bound.ContainsKey('ClientSecretFile')) {
        $arguments += @('--client-secret-file', $Bound['ClientSecretFile'])
    }
    if ($Bound.ContainsKey('CertificatePem')) {
        $arguments += @('--certificate-pem', (Resolve-Path -LiteralPath $Bound['CertificatePem']).ProviderPath)
    }
    if ($Bound.ContainsKey('PrivateKeyPem')) {
        $arguments += @('--private-key-pem', (Resolve-Path -LiteralPath $Bound['PrivateKeyPem']).ProviderPath)
    }
    if ($Bound.ContainsKey('CertificateFile')) {
        $arguments += @('--certificate-file', $Bound['CertificateFile'])
    }
    if ($Bound.ContainsKey('PrivateKeyFile')) {
        $arguments += @('--private-key-file', $Bound['PrivateKeyFile'])
    }
    if ($Bound.ContainsKey('TokenFile')) {
        $arguments += @('--token-file', $Bound['TokenFile'])
    }
    if ($Bound.ContainsKey('IdentityClientId')) {
        $arguments += @('--identity-client-id', $Bound['IdentityClientId'])
    }
    $arguments
}

function Get-SsprTenantDetailArgument {
    <#
    .SYNOPSIS
    The --display-name, --domain and --tag flags of `sspr tenants add` and `tenants update`.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory)] [hashtable] $Bound)
    $arguments = @()
    if ($Bound.ContainsKey('DisplayName')) {
        $arguments += @('--display-name', $Bound['DisplayName'])
    }
    foreach ($one in @($Bound['Domain'])) {
        if ($one) {
            $arguments += @('--domain', $one)
        }
    }
    foreach ($one in @($Bound['Tag'])) {
        if ($one) {
            $arguments += @('--tag', $one)
        }
    }
    $arguments
}
