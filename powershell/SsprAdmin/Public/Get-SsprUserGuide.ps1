function Get-SsprUserGuide {
    <#
    .SYNOPSIS
    Gets a one-page guide for a tenant's users: where to register, where to reset, the Windows
    sign-in link and the helpdesk link.

    .DESCRIPTION
    sspr user-guide. Markdown by default; -AsHtml for a self-contained page; -AsObject for the
    facts the guide tells (the helpdesk link, the methods, the portals).

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER AsHtml
    Return the guide as one self-contained HTML page.

    .PARAMETER AsObject
    Return the guide's facts as an object instead of a page.

    .EXAMPLE
    Get-SsprUserGuide -Tenant contoso.onmicrosoft.com | Set-Content -Path guide.md

    .EXAMPLE
    Get-SsprTenant -Tag 'region:eu' | ForEach-Object { Get-SsprUserGuide -Tenant $_.domain -AsHtml | Set-Content "$($_.domain).html" }
    #>
    [CmdletBinding(DefaultParameterSetName = 'Page')]
    [OutputType([string], 'SsprAdmin.UserGuide')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [Parameter(ParameterSetName = 'Page')] [switch] $AsHtml,
        [Parameter(Mandatory, ParameterSetName = 'Object')] [switch] $AsObject
    )
    process {
        if ($AsObject) {
            Invoke-SsprCli -Arguments @('user-guide', '--tenant', $Tenant, '--format', 'json') -Cmdlet $PSCmdlet -Tenant $Tenant
            return
        }
        $format = 'md'
        if ($AsHtml) {
            $format = 'html'
        }
        Invoke-SsprCli -Arguments @('user-guide', '--tenant', $Tenant, '--format', $format) -Cmdlet $PSCmdlet -Tenant $Tenant -Text
    }
}
