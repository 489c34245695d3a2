function Get-SsprAuditRecord {
    <#
    .SYNOPSIS
    Gets the audit trail of write attempts, newest first.

    .DESCRIPTION
    sspr audit list (needs SSPR.Admin): every attempt to change a tenant, with its outcome. By
    default every page is read; -FirstPage reads one page of -PageSize records.

    .PARAMETER Tenant
    Only this tenant (id or domain; binds from a tenant's Domain in the pipeline).

    .PARAMETER Actor
    Only this actor: object id, user principal name or application id.

    .PARAMETER Since
    Only records at or after this time.

    .PARAMETER Outcome
    Only records with this outcome.

    .PARAMETER PageSize
    Records per page (1 to 500).

    .PARAMETER FirstPage
    Read the first page only.

    .EXAMPLE
    Get-SsprAuditRecord -Tenant contoso.onmicrosoft.com -Outcome failed

    .EXAMPLE
    Get-SsprAuditRecord -Since (Get-Date).AddDays(-1) | Where-Object Outcome -ne 'succeeded'
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.AuditRecord')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [string] $Actor,
        [datetime] $Since,
        [ValidateSet('attempted', 'succeeded', 'failed', 'rolledBack', 'refused', 'noChange', 'unknown')]
        [string] $Outcome,
        [ValidateRange(1, 500)] [int] $PageSize,
        [switch] $FirstPage
    )
    process {
        $arguments = @('audit', 'list')
        if ($Tenant) {
            $arguments += @('--tenant', $Tenant)
        }
        if ($Actor) {
            $arguments += @('--actor', $Actor)
        }
        if ($PSBoundParameters.ContainsKey('Since')) {
            $arguments += @('--since', $Since.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [cultureinfo]::InvariantCulture))
        }
        if ($Outcome) {
            $arguments += @('--outcome', $Outcome)
        }
        if ($PageSize) {
            $arguments += @('--limit', [string] $PageSize)
        }
        if (-not $FirstPage) {
            $arguments += @('--all')
        }
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.AuditRecord'
    }
}
