function Get-SsprReadiness {
    <#
    .SYNOPSIS
    Gets the SSPR guide's checklist for one tenant or all: each check's status, evidence and remedy.

    .DESCRIPTION
    sspr readiness. One object per tenant, with its Checks (licences, writeback, who SSPR is for,
    methods and gates, registration, notifications, the helpdesk link, the Windows sign-in link,
    registration protection, MFA registration, coverage and Secure Score). Pipe tenants in, or use
    -AllTenant for every tenant you may access, each written as it completes; a tenant that fails
    is a non-terminating error whose target object is that tenant, and the others go on.
    -AsHtml and -AsMarkdown return the report page as one string instead.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER AllTenant
    Every tenant you may access.

    .PARAMETER AsHtml
    Return the self-contained HTML report (one page) instead of objects.

    .PARAMETER AsMarkdown
    Return the report as Markdown instead of objects.

    .EXAMPLE
    Get-SsprReadiness -Tenant contoso.onmicrosoft.com | Select-Object -ExpandProperty checks

    .EXAMPLE
    Get-SsprReadiness -AllTenant | Where-Object status -eq 'fail'

    .EXAMPLE
    Get-SsprReadiness -AllTenant -AsHtml | Set-Content -Path fleet.html
    #>
    [CmdletBinding(DefaultParameterSetName = 'Tenant')]
    [OutputType('SsprAdmin.Readiness', [string])]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Tenant', Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [Parameter(Mandatory, ParameterSetName = 'All')] [switch] $AllTenant,
        [switch] $AsHtml,
        [switch] $AsMarkdown
    )
    process {
        if ($AsHtml -and $AsMarkdown) {
            $PSCmdlet.ThrowTerminatingError((New-SsprModuleError -Id 'Usage' -Category InvalidArgument -Message 'Give -AsHtml or -AsMarkdown, not both.' -Action 'Choose one report format.'))
        }
        $which = @('--all-tenants')
        if ($PSCmdlet.ParameterSetName -eq 'Tenant') {
            $which = @('--tenant', $Tenant)
        }
        if ($AsHtml -or $AsMarkdown) {
            $format = 'md'
            if ($AsHtml) {
                $format = 'html'
            }
            $arguments = @('readiness') + $which + @('--format', $format)
            Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant -Text
            return
        }
        if ($PSCmdlet.ParameterSetName -eq 'Tenant') {
            Invoke-SsprCli -Arguments (@('readiness') + $which + @('--format', 'json')) -Cmdlet $PSCmdlet -Tenant $Tenant |
                Add-SsprTypeName -TypeName 'SsprAdmin.Readiness'
            return
        }
        Invoke-SsprCli -Arguments @('readiness', '--all-tenants', '--format', 'ndjson') -Cmdlet $PSCmdlet -Stream -Fleet | ForEach-Object {
            $name = $_.tenant
            if ($_.domain) {
                $name = $_.domain
            }
            $names = @($_.PSObject.Properties.Name)
            if ($names -contains 'readiness' -and $null -ne $_.readiness) {
                $_.readiness | Add-SsprTypeName -TypeName 'SsprAdmin.Readiness'
            }
            else {
                $PSCmdlet.WriteError((ConvertTo-SsprErrorRecord -Problem $_.problem -ExitCode 5 -Tenant $name))
            }
        }
    }
}
