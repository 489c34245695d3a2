function Get-SsprRegistrationProtection {
    <#
    .SYNOPSIS
    Grades every Conditional Access policy on the security-info registration action.

    .DESCRIPTION
    sspr registration-protection status (needs Entra ID P1 or P2): each policy's grade with the
    reasons, the one the service deployed (Ours) and the tenant's verdict.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER BreakGlassUser
    Declared break-glass user ids, besides the discovered ones.

    .PARAMETER BreakGlassGroup
    Declared break-glass group ids.

    .EXAMPLE
    Get-SsprRegistrationProtection -Tenant contoso.onmicrosoft.com

    .EXAMPLE
    Get-SsprTenant | Get-SsprRegistrationProtection | Where-Object Verdict -ne 'pass'
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.RegistrationProtection')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [string[]] $BreakGlassUser,
        [string[]] $BreakGlassGroup
    )
    process {
        $arguments = @('registration-protection', 'status', '--tenant', $Tenant)
        if ($BreakGlassUser) {
            $arguments += @('--break-glass-users', ($BreakGlassUser -join ','))
        }
        if ($BreakGlassGroup) {
            $arguments += @('--break-glass-groups', ($BreakGlassGroup -join ','))
        }
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.RegistrationProtection'
    }
}
