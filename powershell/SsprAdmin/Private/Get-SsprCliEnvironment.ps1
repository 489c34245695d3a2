function Get-SsprCliEnvironment {
    <#
    .SYNOPSIS
    The variables that give the CLI the session of Connect-Sspr: the URL, the sign-in method and
    its secrets, which go through the child's environment and never on its command line. Without
    a session, nothing: the CLI reads the SSPR_* variables this process already has.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()
    $environment = @{}
    $session = $script:SsprSession
    if ($null -eq $session) {
        return $environment
    }
    # With a sign-in of its own, every sign-in variable is set or removed, so an inherited one
    # cannot mix into the session's.
    if ($session.ContainsKey('SSPR_AUTH')) {
        foreach ($name in @('SSPR_URL', 'SSPR_AUTH', 'SSPR_TOKEN', 'SSPR_AUTHORITY', 'SSPR_CLIENT_ID', 'SSPR_CLIENT_SECRET',
                'SSPR_CERTIFICATE', 'SSPR_PRIVATE_KEY', 'SSPR_MANAGED_IDENTITY_ENDPOINT')) {
            $environment[$name] = $null
        }
    }
    foreach ($name in @($session.Keys)) {
        $value = $session[$name]
        if ($value -is [securestring]) {
            $value = [System.Net.NetworkCredential]::new('', $value).Password
        }
        $environment[$name] = $value
    }
    $environment
}
