function Compare-SsprPolicy {
    <#
    .SYNOPSIS
    Shows what a change of a tenant's SSPR policy would do, without changing anything.

    .DESCRIPTION
    sspr policy diff (a dry run): the fields the change sets, the Graph and portal calls it makes,
    and the findings after it.

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
    Compare-SsprPolicy -Tenant contoso.onmicrosoft.com -MethodsRequired 2

    .EXAMPLE
    Compare-SsprPolicy -Tenant contoso.onmicrosoft.com -Path ./patch.yaml | Select-Object -ExpandProperty Changes
    #>
    [CmdletBinding()]
    [OutputType('SsprAdmin.PolicyPlan')]
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
        $arguments = @('policy', 'diff', '--tenant', $Tenant)
        $arguments += Get-SsprPolicyChangeArgument -Bound $PSBoundParameters
        Invoke-SsprCli -Arguments $arguments -Cmdlet $PSCmdlet -Tenant $Tenant | Add-SsprTypeName -TypeName 'SsprAdmin.PolicyPlan'
    }
}
