function Get-SsprTenant {
    <#
    .SYNOPSIS
    Gets the tenants you may act on, or one of them.

    .DESCRIPTION
    Lists the tenants the service manages that your grants cover (sspr tenants list), with their
    tags, credential kind and health, or shows one (sspr tenants show). Pipe them into the other
    cmdlets: their Domain binds to -Tenant.

    .PARAMETER Tenant
    One tenant's id or domain.

    .PARAMETER Tag
    Only tenants with every one of these tags, e.g. region:eu.

    .EXAMPLE
    Get-SsprTenant

    .EXAMPLE
    Get-SsprTenant -Tag 'region:eu' | Get-SsprRegistrationSummary

    .EXAMPLE
    Get-SsprTenant -Tenant contoso.onmicrosoft.com
    #>
    [CmdletBinding(DefaultParameterSetName = 'List')]
    [OutputType('SsprAdmin.Tenant')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'One', Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,

        [Parameter(ParameterSetName = 'List')]
        [string[]] $Tag
    )
    process {
        if ($PSCmdlet.ParameterSetName -eq 'One') {
            $arguments = @('tenants', 'show', '--tenant', $Tenant)
        }
        else {
            $arguments = @('tenants', 'list')
            foreach ($one in $Tag) {
                $arguments += @('--tag', $one)
            }
        }
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.Tenant'
    }
}
