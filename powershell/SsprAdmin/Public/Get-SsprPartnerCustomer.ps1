function Get-SsprPartnerCustomer {
    <#
    .SYNOPSIS
    Gets the MSP's delegated admin (GDAP) customers and whether each is onboarded.

    .DESCRIPTION
    sspr partner customers (needs SSPR.Admin): read in the MSP's own (partner) tenant.

    .EXAMPLE
    Get-SsprPartnerCustomer

    .EXAMPLE
    Get-SsprPartnerCustomer | Where-Object { -not $_.Onboarded }
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.PartnerCustomer')]
    param()
    $arguments = @('partner', 'customers')
    Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet | ForEach-Object { $_.value } |
        Add-SsprTypeName -TypeName 'SsprAdmin.PartnerCustomer'
}
