function Enable-SsprRegistrationProtection {
    <#
    .SYNOPSIS
    Enforces the deployed registration-protection policy (promote), changing nothing else.

    .DESCRIPTION
    sspr registration-protection promote: refused while the policy's grade has failures unless
    -Force. -WhatIf shows the CLI's plan; without -Confirm:$false it is shown and you are asked.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER Force
    Enforce although the policy's grade has failures.

    .EXAMPLE
    Enable-SsprRegistrationProtection -Tenant contoso.onmicrosoft.com -WhatIf

    .EXAMPLE
    Enable-SsprRegistrationProtection -Tenant contoso.onmicrosoft.com -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.RegistrationProtectionChange')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [switch] $Force
    )
    process {
        $arguments = @('registration-protection', 'promote', '--tenant', $Tenant)
        if ($Force) {
            $arguments += @('--force')
        }
        Invoke-SsprPlannedChange -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant `
            -Action 'Enforce the registration-protection policy' -TypeName 'SsprAdmin.RegistrationProtectionChange'
    }
}
