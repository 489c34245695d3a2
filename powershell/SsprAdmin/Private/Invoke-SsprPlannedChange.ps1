function Invoke-SsprPlannedChange {
    <#
    .SYNOPSIS
    A change the CLI plans before it applies (policy set, registration-protection apply, promote,
    demote): the CLI's own plan (--dry-run) is what -WhatIf shows and what -Confirm asks about;
    once confirmed, the change is applied with --yes. With -Confirm:$false nothing asks, so no
    plan is fetched first.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string[]] $Arguments,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [string] $Tenant,
        [Parameter(Mandatory)] [string] $Action,
        [Parameter(Mandatory)] [string] $TypeName
    )
    $description = "$Action on $Tenant"
    $question = "$Action on ${Tenant}?"
    # 'None' (-Confirm:$false) never asks; anything else asks for a High-impact change.
    if ($WhatIfPreference -or $ConfirmPreference -ne 'None') {
        $plan = Invoke-SsprCli -Arguments ($Arguments + @('--dry-run')) -Cmdlet $Cmdlet -Tenant $Tenant -Text
        if (-not $plan) {
            # The plan failed (its error is written): nothing to confirm, nothing applied.
            return
        }
        $description = "$Action on ${Tenant}:`n$plan"
        $question = "$plan`n`n$Action on ${Tenant}?"
    }
    if ($Cmdlet.ShouldProcess($description, $question, $Action)) {
        Invoke-SsprCli -Arguments ($Arguments + @('--yes')) -Cmdlet $Cmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName $TypeName
    }
}
