function Connect-Sspr {
    <#
    .SYNOPSIS
    Says which sspr service the cmdlets talk to and how they sign in to it.

    .DESCRIPTION
    Keeps the service URL and the sign-in in the module's scope for the cmdlets of this session.
    Secrets are kept as SecureString, given to the sspr binary through its environment (never on
    its command line) and never printed. Without Connect-Sspr the cmdlets use the SSPR_*
    environment variables as the sspr CLI does (SSPR_URL, SSPR_AUTH, SSPR_TOKEN, ...).

    Sign-in methods: a token (-Token), an app's client secret (-ClientCredential, user name = the
    application id), a certificate (-CertificatePath), the host's managed identity
    (-ManagedIdentity), Kubernetes workload identity (-WorkloadIdentity) or the Azure CLI
    (-AzureCli).

    .PARAMETER Url
    The base URL of the sspr service, e.g. https://sspr.example/.

    .PARAMETER Token
    A bearer token for the service (without the "Bearer " prefix).

    .PARAMETER ClientCredential
    An app registration's client secret: user name = application (client) id, password = secret.

    .PARAMETER Authority
    The MSP tenant's authority, e.g. https://login.microsoftonline.com/<tenant-id>/.

    .PARAMETER ClientId
    The application id (certificate), or the client id of a user-assigned managed identity, or of
    the workload identity's app (default: the webhook's AZURE_CLIENT_ID).

    .PARAMETER CertificatePath
    A PEM certificate uploaded to the app registration; its private key in the same file or in
    -PrivateKeyPath.

    .PARAMETER PrivateKeyPath
    The certificate's private key (PEM), when not in the certificate file.

    .PARAMETER ManagedIdentity
    Sign in with the host's managed identity (Azure Automation, an Azure VM).

    .PARAMETER ManagedIdentityEndpoint
    The instance metadata token endpoint, when not the default.

    .PARAMETER WorkloadIdentity
    Sign in with the pod's projected service-account token (the webhook's AZURE_* variables).

    .PARAMETER FederatedTokenFile
    The projected token file (default: AZURE_FEDERATED_TOKEN_FILE).

    .PARAMETER AzureCli
    Sign in as whoever is signed in to the Azure CLI.

    .PARAMETER Scope
    The scope requested for the service (default api://sspr/.default).

    .PARAMETER CaFile
    An extra trusted root CA (PEM) for an https service URL and the authority.

    .EXAMPLE
    Connect-Sspr -Url $env:SSPR_URL -Token (Read-Host -AsSecureString 'Token')

    Signs in with a token you already have.

    .EXAMPLE
    # An Azure Automation runbook whose account has a managed identity:
    Connect-Sspr -Url 'https://sspr.example/' -ManagedIdentity
    Get-SsprTenant | Get-SsprRegistrationSummary

    .EXAMPLE
    # A Kubernetes CronJob whose service account has Azure workload identity:
    Connect-Sspr -Url 'http://sspr.sspr.svc.cluster.local:8080/' -WorkloadIdentity
    Get-SsprRegistrationSummary -AllTenant

    .EXAMPLE
    $secret = Get-Credential -UserName '6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b' -Message 'Client secret'
    Connect-Sspr -Url 'https://sspr.example/' -Authority 'https://login.microsoftonline.com/contoso.onmicrosoft.com/' -ClientCredential $secret

    .OUTPUTS
    SsprAdmin.Connection: the URL and the sign-in method, without any secret.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Environment')]
    [OutputType('SsprAdmin.Connection')]
    param(
        [Parameter(Mandatory)] [uri] $Url,

        [Parameter(Mandatory, ParameterSetName = 'Token')] [securestring] $Token,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')] [pscredential] $ClientCredential,

        [Parameter(Mandatory, ParameterSetName = 'ClientSecret')]
        [Parameter(Mandatory, ParameterSetName = 'Certificate')]
        [Parameter(ParameterSetName = 'WorkloadIdentity')]
        [uri] $Authority,

        [Parameter(Mandatory, ParameterSetName = 'Certificate')]
        [Parameter(ParameterSetName = 'ManagedIdentity')]
        [Parameter(ParameterSetName = 'WorkloadIdentity')]
        [string] $ClientId,

        [Parameter(Mandatory, ParameterSetName = 'Certificate')] [string] $CertificatePath,
        [Parameter(ParameterSetName = 'Certificate')] [string] $PrivateKeyPath,

        [Parameter(Mandatory, ParameterSetName = 'ManagedIdentity')] [switch] $ManagedIdentity,
        [Parameter(ParameterSetName = 'ManagedIdentity')] [uri] $ManagedIdentityEndpoint,

        [Parameter(Mandatory, ParameterSetName = 'WorkloadIdentity')] [switch] $WorkloadIdentity,
        [Parameter(ParameterSetName = 'WorkloadIdentity')] [string] $FederatedTokenFile,

        [Parameter(Mandatory, ParameterSetName = 'AzureCli')] [switch] $AzureCli,

        [string] $Scope,
        [string] $CaFile
    )
    $session = @{ SSPR_URL = $Url.AbsoluteUri }
    switch ($PSCmdlet.ParameterSetName) {
        'Token' {
            $session['SSPR_AUTH'] = 'token'
            $session['SSPR_TOKEN'] = $Token
        }
        'ClientSecret' {
            $session['SSPR_AUTH'] = 'client-secret'
            $session['SSPR_AUTHORITY'] = $Authority.AbsoluteUri
            $session['SSPR_CLIENT_ID'] = $ClientCredential.UserName
            $session['SSPR_CLIENT_SECRET'] = $ClientCredential.Password
        }
        'Certificate' {
            $session['SSPR_AUTH'] = 'certificate'
            $session['SSPR_AUTHORITY'] = $Authority.AbsoluteUri
            $session['SSPR_CLIENT_ID'] = $ClientId
            $session['SSPR_CERTIFICATE'] = (Resolve-Path -LiteralPath $CertificatePath).ProviderPath
            if ($PrivateKeyPath) {
                $session['SSPR_PRIVATE_KEY'] = (Resolve-Path -LiteralPath $PrivateKeyPath).ProviderPath
            }
        }
        'ManagedIdentity' {
            $session['SSPR_AUTH'] = 'managed-identity'
            if ($ClientId) {
                $session['SSPR_CLIENT_ID'] = $ClientId
            }
            if ($ManagedIdentityEndpoint) {
                $session['SSPR_MANAGED_IDENTITY_ENDPOINT'] = $ManagedIdentityEndpoint.AbsoluteUri
            }
        }
        'WorkloadIdentity' {
            $session['SSPR_AUTH'] = 'workload-identity'
            if ($ClientId) {
                $session['SSPR_CLIENT_ID'] = $ClientId
            }
            if ($Authority) {
                $session['SSPR_AUTHORITY'] = $Authority.AbsoluteUri
            }
            if ($FederatedTokenFile) {
                $session['AZURE_FEDERATED_TOKEN_FILE'] = $FederatedTokenFile
            }
        }
        'AzureCli' {
            $session['SSPR_AUTH'] = 'azure-cli'
        }
        'Environment' {
            # Only the URL: the sign-in comes from the SSPR_* variables, as for the CLI.
        }
    }
    if ($Scope) {
        $session['SSPR_SCOPE'] = $Scope
    }
    if ($CaFile) {
        $session['SSPR_CA_FILE'] = (Resolve-Path -LiteralPath $CaFile).ProviderPath
    }
    $script:SsprSession = $session
    $method = 'environment'
    if ($session.ContainsKey('SSPR_AUTH')) {
        $method = $session['SSPR_AUTH']
    }
    [pscustomobject]@{
        PSTypeName = 'SsprAdmin.Connection'
        Url        = $session['SSPR_URL']
        SignIn     = $method
    }
}
