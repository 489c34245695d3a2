function Grant-SsprAccess {
    <#
    .SYNOPSIS
    Grants a principal some tenants, up to a role.

    .DESCRIPTION
    sspr access grant (needs SSPR.Admin and a grant of every tenant). -Tenant takes tenant ids or
    domains, tag:<tag> (every tenant with the tag) or * (every tenant).

    .PARAMETER Principal
    The caller's object id (oid) or client id (appid/azp).

    .PARAMETER Tenant
    Tenant ids or domains, tag:<tag> selectors, or *.

    .PARAMETER Role
    The highest role the grant gives on those tenants.

    .EXAMPLE
    Grant-SsprAccess -Principal '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a' -Tenant 'tag:region:eu' -Role SSPR.Read -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.AccessGrant')]
    param(
        [Parameter(Mandatory)] [string] $Principal,
        [Parameter(Mandatory)] [string[]] $Tenant,
        [Parameter(Mandatory)]
        [ValidateSet('SSPR.Read', 'SSPR.ReadWrite', 'SSPR.Admin')]
        [string] $Role
    )
    $arguments = @('access', 'grant', '--principal', $Principal, '--tenants', ($Tenant -join ','), '--role', $Role)
    if ($PSCmdlet.ShouldProcess($Principal, "Grant $Role on $($Tenant -join ', ')")) {
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet | Add-SsprTypeName -TypeName 'SsprAdmin.AccessGrant'
    }
}
