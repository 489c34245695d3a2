function Get-SsprPolicyChangeArgument {
    <#
    .SYNOPSIS
    The change flags of `sspr policy diff` and `policy set` for the bound parameters of
    Compare-SsprPolicy or Set-SsprPolicy: a merge patch file, or settings.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory)] [hashtable] $Bound)
    $onOff = { param($value) if ($value) { 'on' } else { 'off' } }
    $arguments = @()
    if ($Bound.ContainsKey('Path')) {
        $arguments += @('--file', (Resolve-Path -LiteralPath $Bound['Path']).ProviderPath)
    }
    if ($Bound.ContainsKey('Enablement')) {
        $arguments += @('--enablement', $Bound['Enablement'])
    }
    if ($Bound.ContainsKey('GroupId')) {
        $arguments += @('--group-id', $Bound['GroupId'])
    }
    if ($Bound.ContainsKey('MethodsRequired')) {
        $arguments += @('--methods-required', [string] $Bound['MethodsRequired'])
    }
    foreach ($name in @($Bound['EnableMethod'])) {
        if ($name) {
            $arguments += @('--method', "$name=on")
        }
    }
    foreach ($name in @($Bound['DisableMethod'])) {
        if ($name) {
            $arguments += @('--method', "$name=off")
        }
    }
    if ($Bound.ContainsKey('RegistrationRequired')) {
        $arguments += @('--registration-required', (& $onOff $Bound['RegistrationRequired']))
    }
    if ($Bound.ContainsKey('ReconfirmDays')) {
        $arguments += @('--reconfirm-days', [string] $Bound['ReconfirmDays'])
    }
    if ($Bound.ContainsKey('NotifyUsers')) {
        $arguments += @('--notify-users', (& $onOff $Bound['NotifyUsers']))
    }
    if ($Bound.ContainsKey('NotifyAdmins')) {
        $arguments += @('--notify-admins', (& $onOff $Bound['NotifyAdmins']))
    }
    if ($Bound.ContainsKey('HelpdeskLink')) {
        $arguments += @('--helpdesk-link', $Bound['HelpdeskLink'])
    }
    if ($Bound.ContainsKey('Writeback')) {
        $arguments += @('--writeback', (& $onOff $Bound['Writeback']))
    }
    if ($Bound.ContainsKey('Unlock')) {
        $arguments += @('--unlock', (& $onOff $Bound['Unlock']))
    }
    if ($Bound.ContainsKey('AdminSspr')) {
        $arguments += @('--admin-sspr', (& $onOff $Bound['AdminSspr']))
    }
    if ($Bound.ContainsKey('MigrationState')) {
        $arguments += @('--migration-state', $Bound['MigrationState'])
    }
    $arguments
}
