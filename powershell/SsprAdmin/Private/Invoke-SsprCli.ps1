function Invoke-SsprCli {
    <#
    .SYNOPSIS
    The one gateway to the sspr binary. Runs it with --output json and the session's environment,
    writes what it prints as objects (with -Stream, one per NDJSON line as it arrives), and turns
    a failure (exit code and the problem document on stderr) into an ErrorRecord of the calling
    cmdlet: terminating for connection and authentication failures, which no further input can
    get past, non-terminating otherwise, so a pipeline of tenants goes on past one that failed.

    .NOTES
    Cmdlets pass their arguments as simple literal arrays (@('policy', 'get', '--tenant', $Tenant)):
    the static checks in tests/powershell read them and check every flag against `sspr commands`.
    #>
    [CmdletBinding()]
    param(
        # The command and its flags, without --output: e.g. @('tenants', 'list').
        [Parameter(Mandatory)] [string[]] $Arguments,
        # The public cmdlet being run: its errors are written through it.
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        # The tenant the call is about: the error records' target object.
        [string] $Tenant,
        # NDJSON on stdout: each line becomes an object as it arrives.
        [switch] $Stream,
        # The CLI's own text output (its plans, for -WhatIf), not JSON.
        [switch] $Text,
        # Per-tenant failures of a fleet listing were written already: the summary error is not.
        [switch] $Fleet,
        # Exit codes that mean "answered, with reservations": a warning, not an error.
        [int[]] $WarningExitCode = @(),
        # More variables for the child (SSPR_TENANT_CLIENT_SECRET for a tenant's secret).
        [hashtable] $Environment = @{},
        # A secret for the CLI's standard input.
        [securestring] $InputSecret
    )
    $path = Resolve-SsprCliPath -Cmdlet $Cmdlet
    $all = @()
    if (-not $Text) {
        $all += @('--output', 'json')
    }
    $all += $Arguments
    $childEnvironment = Get-SsprCliEnvironment
    foreach ($name in $Environment.Keys) {
        $childEnvironment[$name] = $Environment[$name]
    }
    Write-Verbose "sspr $($Arguments -join ' ')"

    $lines = [System.Collections.Generic.List[string]]::new()
    $exit = $null
    Invoke-SsprNative -Path $path -Arguments $all -Environment $childEnvironment -InputSecret $InputSecret | ForEach-Object {
        if ($_ -is [string]) {
            if ($Stream) {
                if ($_.Trim()) {
                    $_ | ConvertFrom-Json
                }
            }
            else {
                $lines.Add($_)
            }
        }
        else {
            $exit = $_
        }
    }
    if ($lines.Count -gt 0) {
        $output = $lines -join "`n"
        if ($Text) {
            $output
        }
        elseif ($output.Trim()) {
            $output | ConvertFrom-Json
        }
    }
    if ($null -eq $exit -or $exit.ExitCode -eq 0) {
        return
    }

    $record = ConvertTo-SsprErrorRecord -StdErr $exit.StdErr -ExitCode $exit.ExitCode -Tenant $Tenant
    $code = $record.FullyQualifiedErrorId
    if ($WarningExitCode -contains $exit.ExitCode) {
        $Cmdlet.WriteWarning($record.Exception.Message)
        return
    }
    if ($Fleet -and $code -eq 'Sspr.tenantsFailed') {
        return
    }
    # Nothing else can succeed without a connection or the caller's sign-in: stop the whole
    # pipeline. A permission the app lacks in one tenant, or no token for one tenant, is that
    # tenant's failure (exit code 3 too).
    $tenantOnly = @('Sspr.permissionMissing', 'Sspr.noToken')
    if ($code -eq 'Sspr.connection' -or ($exit.ExitCode -eq 3 -and $tenantOnly -notcontains $code)) {
        $Cmdlet.ThrowTerminatingError($record)
    }
    $Cmdlet.WriteError($record)
}
