function Disable-SsprRegistrationProtection {
    <#
    .SYNOPSIS
    Makes the deployed registration-protection policy report-only again (demote).

    .DESCRIPTION
    sspr registration-protection demote: changes nothing but the state. -WhatIf shows the CLI's
    plan; without -Confirm:$false it is shown and you are asked.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .EXAMPLE
    Disable-SsprRegistrationProtection -Tenant contoso.onmicrosoft.com -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.RegistrationProtectionChange')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant
    )
    process {
        $arguments = @('registration-protection', 'demote', '--tenant', $Tenant)
        Invoke-SsprPlannedChange -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant `
            -Action 'Make the registration-protection policy report-only' -TypeName 'SsprAdmin.RegistrationProtectionChange'
    }
}
