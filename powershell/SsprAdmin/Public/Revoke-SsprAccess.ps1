function Revoke-SsprAccess {
    <#
    .SYNOPSIS
    Revokes a grant made through the API.

    .DESCRIPTION
    sspr access revoke (needs SSPR.Admin). Grants of the configuration file cannot be revoked here.

    .PARAMETER Id
    The grant's id (binds from a grant's Id in the pipeline).

    .EXAMPLE
    Revoke-SsprAccess -Id '7d3f5a2e-1b4c-4d6e-8f9a-0b1c2d3e4f5a'

    .EXAMPLE
    Get-SsprAccessGrant | Where-Object Principal -eq '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a' | Revoke-SsprAccess -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.RevokedGrant')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)] [string] $Id
    )
    process {
        $arguments = @('access', 'revoke', '--id', $Id, '--yes')
        if ($PSCmdlet.ShouldProcess($Id, 'Revoke the grant')) {
            Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet | Add-SsprTypeName -TypeName 'SsprAdmin.RevokedGrant'
        }
    }
}
