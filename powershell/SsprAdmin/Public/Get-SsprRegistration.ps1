function Get-SsprRegistration {
    <#
    .SYNOPSIS
    Gets users' registration details for SSPR and MFA, streamed as they arrive.

    .DESCRIPTION
    sspr registrations list --format ndjson (needs Entra ID P1 or P2 in the tenant): each user
    becomes an object as its line arrives, so a tenant of a million users never sits in memory.
    Filters go down to Graph where Graph supports them.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER Sspr
    Only users in this SSPR state.

    .PARAMETER Mfa
    Only users in this MFA state.

    .PARAMETER Passwordless
    Only users who are (or are not) passwordless capable.

    .PARAMETER Admin
    Only administrators ($true) or only everybody else ($false).

    .PARAMETER UserType
    Only members or only guests.

    .PARAMETER Method
    Only users with any of these methods registered, e.g. email, mobilePhone.

    .PARAMETER UpnPrefix
    Only users whose user principal name starts with this (case-insensitive).

    .PARAMETER Property
    The record members to include, in this order (default: all).

    .EXAMPLE
    Get-SsprRegistration -Tenant contoso.onmicrosoft.com -Sspr enabledNotRegistered

    .EXAMPLE
    Get-SsprRegistration -Tenant contoso.onmicrosoft.com -Admin $true -Mfa notRegistered | Export-Csv admins-without-mfa.csv

    .EXAMPLE
    Get-SsprRegistration -Tenant contoso.onmicrosoft.com | Select-Object -First 10
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.Registration')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [ValidateSet('registered', 'notRegistered', 'enabled', 'notEnabled', 'capable', 'notCapable', 'enabledNotRegistered', 'registeredNotEnabled')]
        [string] $Sspr,
        [ValidateSet('registered', 'notRegistered', 'capable', 'notCapable')]
        [string] $Mfa,
        [ValidateSet('capable', 'notCapable')]
        [string] $Passwordless,
        [bool] $Admin,
        [ValidateSet('member', 'guest')]
        [string] $UserType,
        [string[]] $Method,
        [string] $UpnPrefix,
        [string[]] $Property
    )
    process {
        $arguments = @('registrations', 'list', '--tenant', $Tenant, '--format', 'ndjson', '--quiet')
        if ($Sspr) {
            $arguments += @('--sspr', $Sspr)
        }
        if ($Mfa) {
            $arguments += @('--mfa', $Mfa)
        }
        if ($Passwordless) {
            $arguments += @('--passwordless', $Passwordless)
        }
        if ($PSBoundParameters.ContainsKey('Admin')) {
            $arguments += @('--admin', $Admin.ToString().ToLowerInvariant())
        }
        if ($UserType) {
            $arguments += @('--user-type', $UserType)
        }
        if ($Method) {
            $arguments += @('--methods', ($Method -join ','))
        }
        if ($UpnPrefix) {
            $arguments += @('--upn-prefix', $UpnPrefix)
        }
        if ($Property) {
            $arguments += @('--fields', ($Property -join ','))
        }
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant -Stream | Add-SsprTypeName -TypeName 'SsprAdmin.Registration'
    }
}
