function Remove-SsprTenant {
    <#
    .SYNOPSIS
    Offboards a tenant: its credential is deleted, its audit records stay.

    .DESCRIPTION
    sspr tenants remove (needs SSPR.Admin). Asks first unless -Confirm:$false.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .EXAMPLE
    Remove-SsprTenant -Tenant tailspin.onmicrosoft.com

    .EXAMPLE
    Remove-SsprTenant -Tenant tailspin.onmicrosoft.com -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.RemovedTenant')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant
    )
    process {
        $arguments = @('tenants', 'remove', '--tenant', $Tenant, '--yes')
        if ($PSCmdlet.ShouldProcess($Tenant, 'Offboard the tenant (its credential is deleted, its audit records stay)')) {
            Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | ForEach-Object { $_.removed } |
                Add-SsprTypeName -TypeName 'SsprAdmin.RemovedTenant'
        }
    }
}
