function Set-SsprPolicy {
    <#
    .SYNOPSIS
    Changes a tenant's SSPR policy.

    .DESCRIPTION
    sspr policy set. -WhatIf shows the CLI's plan (the fields it changes and the exact Graph and
    portal calls) and changes nothing; without -Confirm:$false the same plan is shown and you are
    asked first. The result has Changed, Fields, AuditRecordId and the Policy as read back.

    .PARAMETER Tenant
    The tenant's id or domain (binds from a tenant's Domain in the pipeline).

    .PARAMETER Path
    A JSON merge patch (RFC 7396) over the policy's editable fields, in JSON or YAML, instead of
    the settings below.

    .PARAMETER Enablement
    Who SSPR is enabled for: none, selected (one group) or all.

    .PARAMETER GroupId
    The one group SSPR is enabled for (object id); implies -Enablement selected.

    .PARAMETER MethodsRequired
    Methods required to reset a password: 1 or 2.

    .PARAMETER EnableMethod
    Methods to make usable for reset.

    .PARAMETER DisableMethod
    Methods to make unusable for reset.

    .PARAMETER RegistrationRequired
    Require users to register when they sign in.

    .PARAMETER ReconfirmDays
    Days before users are asked to reconfirm their methods (0 = never).

    .PARAMETER NotifyUsers
    Notify users when their password is reset.

    .PARAMETER NotifyAdmins
    Notify all admins when another admin resets their password.

    .PARAMETER HelpdeskLink
    The "contact your administrator" link: an https URL, an e-mail address, or none.

    .PARAMETER Writeback
    Write passwords back to on-premises AD.

    .PARAMETER Unlock
    Let users unlock their on-premises account without resetting the password.

    .PARAMETER AdminSspr
    Allow administrators to use SSPR.

    .PARAMETER MigrationState
    The Authentication methods policy's migration state.

    .EXAMPLE
    Set-SsprPolicy -Tenant contoso.onmicrosoft.com -ReconfirmDays 90 -NotifyAdmins $true -WhatIf

    .EXAMPLE
    Set-SsprPolicy -Tenant contoso.onmicrosoft.com -DisableMethod securityQuestions -Confirm:$false

    .EXAMPLE
    Get-SsprTenant -Tag 'tier:gold' | Set-SsprPolicy -MethodsRequired 2 -Confirm:$false
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('SsprAdmin.PolicyChange')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Domain')]
        [string] $Tenant,
        [string] $Path,
        [ValidateSet('none', 'selected', 'all')] [string] $Enablement,
        [string] $GroupId,
        [ValidateRange(1, 2)] [int] $MethodsRequired,
        [ValidateSet('mobileAppNotification', 'mobileAppCode', 'email', 'mobilePhone', 'officePhone', 'securityQuestions')]
        [string[]] $EnableMethod,
        [ValidateSet('mobileAppNotification', 'mobileAppCode', 'email', 'mobilePhone', 'officePhone', 'securityQuestions')]
        [string[]] $DisableMethod,
        [bool] $RegistrationRequired,
        [int] $ReconfirmDays,
        [bool] $NotifyUsers,
        [bool] $NotifyAdmins,
        [string] $HelpdeskLink,
        [bool] $Writeback,
        [bool] $Unlock,
        [bool] $AdminSspr,
        [ValidateSet('preMigration', 'migrationInProgress', 'migrationComplete')] [string] $MigrationState
    )
    process {
        $arguments = @('policy', 'set', '--tenant', $Tenant)
        $arguments += Get-SsprPolicyChangeArgument -Bound $PSBoundParameters
        Invoke-SsprPlannedChange -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant -Action 'Change the SSPR policy' `
            -TypeName 'SsprAdmin.PolicyChange'
    }
}
