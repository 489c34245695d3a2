function Get-SsprAccessGrant {
    <#
    .SYNOPSIS
    Gets who may act on which tenants: every grant, from the configuration file and the API.

    .DESCRIPTION
    sspr access list (needs SSPR.Admin).

    .EXAMPLE
    Get-SsprAccessGrant

    .EXAMPLE
    Get-SsprAccessGrant | Where-Object Origin -eq 'api'
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.AccessGrant')]
    param()
    $arguments = @('access', 'list')
    Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet | Add-SsprTypeName -TypeName 'SsprAdmin.AccessGrant'
}
