function Get-SsprRegistrationSummary {
    <#
    .SYNOPSIS
    Gets registration counts per feature and method, and the gaps, for one tenant or all.

    .DESCRIPTION
    sspr registrations summary. Pipe tenants in (one summary each), or use -AllTenant for every
    tenant you may access, each summary written as it completes. In a fleet, a tenant that fails
    is a non-terminating error whose target object is that tenant, and the others go on; a
    tenant without the licence the report needs is a warning (with -Strict, an error).

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER AllTenant
    Every tenant you may access.

    .PARAMETER Strict
    With -AllTenant: a tenant without the licence is an error instead of a warning.

    .PARAMETER MaxAge
    Accept the service's copy of Graph's report if it is at most this many seconds old (0 reads
    Graph afresh).

    .EXAMPLE
    Get-SsprRegistrationSummary -Tenant contoso.onmicrosoft.com

    .EXAMPLE
    Get-SsprTenant -Tag 'region:eu' | Get-SsprRegistrationSummary

    .EXAMPLE
    Get-SsprRegistrationSummary -AllTenant -ErrorVariable failed | Sort-Object TotalUsers -Descending
    #>
    [CmdletBinding(DefaultParameterSetName = 'Tenant')]
    [OutputType('SsprAdmin.RegistrationSummary')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Tenant', Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [Parameter(Mandatory, ParameterSetName = 'All')] [switch] $AllTenant,
        [Parameter(ParameterSetName = 'All')] [switch] $Strict,
        [ValidateRange(0, 2147483647)] [int] $MaxAge
    )
    process {
        if ($PSCmdlet.ParameterSetName -eq 'Tenant') {
            $arguments = @('registrations', 'summary', '--tenant', $Tenant)
            if ($PSBoundParameters.ContainsKey('MaxAge')) {
                $arguments += @('--max-age', [string] $MaxAge)
            }
            Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant |
                Add-SsprTypeName -TypeName 'SsprAdmin.RegistrationSummary'
            return
        }
        $arguments = @('registrations', 'summary', '--all-tenants', '--format', 'ndjson')
        if ($Strict) {
            $arguments += @('--strict')
        }
        if ($PSBoundParameters.ContainsKey('MaxAge')) {
            $arguments += @('--max-age', [string] $MaxAge)
        }
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Stream -Fleet | ForEach-Object {
            $name = $_.tenant
            if ($_.domain) {
                $name = $_.domain
            }
            $names = @($_.PSObject.Properties.Name)
            if ($names -contains 'summary' -and $null -ne $_.summary) {
                $_.summary | Add-SsprTypeName -TypeName 'SsprAdmin.RegistrationSummary'
            }
            elseif ($names -contains 'skipped' -and $_.skipped) {
                $PSCmdlet.WriteWarning("Skipped ${name}: $($_.reason)")
            }
            else {
                $PSCmdlet.WriteError((ConvertTo-SsprErrorRecord -Problem $_.problem -ExitCode 5 -Tenant $name))
            }
        }
    }
}
