function Get-SsprPolicy {
    <#
    .SYNOPSIS
    Gets a tenant's SSPR policy: every group with where its values came from, and findings.

    .DESCRIPTION
    sspr policy get. Each group of the document says its source: graph, portal, inferred or
    unavailable (with the reason and what would make it available).

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .EXAMPLE
    Get-SsprPolicy -Tenant contoso.onmicrosoft.com

    .EXAMPLE
    Get-SsprTenant | Get-SsprPolicy | Select-Object -ExpandProperty Findings
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.Policy')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant
    )
    process {
        $arguments = @('policy', 'get', '--tenant', $Tenant)
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.Policy'
    }
}
