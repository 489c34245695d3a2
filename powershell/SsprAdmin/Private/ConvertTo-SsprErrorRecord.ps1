function Get-SsprErrorCategory {
    <#
    .SYNOPSIS
    The ErrorCategory of a CLI failure: from the problem's HTTP status when it has one, else from
    its code and the CLI's exit code (problems the CLI makes itself carry no status).
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorCategory])]
    param(
        [int] $Status,
        [string] $Code,
        [int] $ExitCode
    )
    # The tenant lacks a licence or connector: nothing the caller can fix by retrying.
    if ($Code -in @('licenseRequired', 'sourceUnavailable', 'featuresUnavailable')) {
        return [System.Management.Automation.ErrorCategory]::NotEnabled
    }
    if ($Code -eq 'timeout' -or $Status -eq 504) {
        return [System.Management.Automation.ErrorCategory]::OperationTimeout
    }
    if ($Code -eq 'connection') {
        return [System.Management.Automation.ErrorCategory]::ConnectionError
    }
    switch ($Status) {
        400 { return [System.Management.Automation.ErrorCategory]::InvalidArgument }
        401 { return [System.Management.Automation.ErrorCategory]::AuthenticationError }
        403 { return [System.Management.Automation.ErrorCategory]::PermissionDenied }
        404 { return [System.Management.Automation.ErrorCategory]::ObjectNotFound }
        409 { return [System.Management.Automation.ErrorCategory]::ResourceExists }
        412 { return [System.Management.Automation.ErrorCategory]::InvalidOperation }
        413 { return [System.Management.Automation.ErrorCategory]::InvalidArgument }
        414 { return [System.Management.Automation.ErrorCategory]::InvalidArgument }
        422 { return [System.Management.Automation.ErrorCategory]::InvalidData }
        428 { return [System.Management.Automation.ErrorCategory]::InvalidOperation }
        429 { return [System.Management.Automation.ErrorCategory]::LimitsExceeded }
        431 { return [System.Management.Automation.ErrorCategory]::InvalidArgument }
        503 { return [System.Management.Automation.ErrorCategory]::ResourceUnavailable }
    }
    if ($Status -ge 500) {
        return [System.Management.Automation.ErrorCategory]::ResourceUnavailable
    }
    switch ($ExitCode) {
        2 { return [System.Management.Automation.ErrorCategory]::InvalidArgument }
        3 { return [System.Management.Automation.ErrorCategory]::AuthenticationError }
        4 { return [System.Management.Automation.ErrorCategory]::ObjectNotFound }
        5 { return [System.Management.Automation.ErrorCategory]::ResourceUnavailable }
        6 { return [System.Management.Automation.ErrorCategory]::InvalidOperation }
        7 { return [System.Management.Automation.ErrorCategory]::NotEnabled }
        8 { return [System.Management.Automation.ErrorCategory]::NotEnabled }
    }
    [System.Management.Automation.ErrorCategory]::NotSpecified
}

function ConvertTo-SsprErrorRecord {
    <#
    .SYNOPSIS
    The ErrorRecord of a CLI failure: ErrorId Sspr.<code> (the problem's code, else the last
    segment of its type), a category from its status, the tenant as target object and the
    detail as the recommended action. The problem and the exit code are in the exception's Data
    (Problem, ExitCode) for catch blocks.
    #>
    [CmdletBinding(DefaultParameterSetName = 'StdErr')]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        # What the CLI wrote on stderr (with --output json: one line, the problem document).
        [Parameter(Mandatory, ParameterSetName = 'StdErr')] [AllowEmptyString()] [string] $StdErr,
        # A problem already read (a fleet line's problem).
        [Parameter(Mandatory, ParameterSetName = 'Problem')] [object] $Problem,
        [int] $ExitCode,
        [string] $Tenant
    )
    if ($PSCmdlet.ParameterSetName -eq 'StdErr') {
        $Problem = $null
        $line = ($StdErr -split "`n" | Where-Object { $_.Trim() } | Select-Object -Last 1)
        if ($line) {
            try {
                $Problem = $line | ConvertFrom-Json -ErrorAction Stop
            }
            catch {
                $Problem = $null
            }
        }
    }
    if ($null -eq $Problem -or $Problem -isnot [System.Management.Automation.PSCustomObject]) {
        $text = "$StdErr".Trim()
        if (-not $text) {
            $text = "sspr exited with code $ExitCode and said nothing"
        }
        # Not a problem document (table output's error lines, a crash): what was seen, with the
        # category the exit code gives.
        $exception = [System.Exception]::new($text)
        $exception.Data['ExitCode'] = $ExitCode
        $category = Get-SsprErrorCategory -ExitCode $ExitCode
        return [System.Management.Automation.ErrorRecord]::new($exception, 'Sspr.Unparseable', $category, $Tenant)
    }

    $names = @($Problem.PSObject.Properties.Name)
    $code = $null
    if ($names -contains 'code' -and $Problem.code) {
        $code = [string] $Problem.code
    }
    elseif ($names -contains 'type' -and $Problem.type) {
        $code = ([string] $Problem.type).TrimEnd('/').Split('/')[-1]
    }
    if (-not $code) {
        $code = 'Unknown'
    }
    $status = 0
    if ($names -contains 'status' -and $null -ne $Problem.status) {
        $status = [int] $Problem.status
    }
    $title = 'sspr failed'
    if ($names -contains 'title' -and $Problem.title) {
        $title = [string] $Problem.title
    }
    $detail = $null
    if ($names -contains 'detail' -and $Problem.detail) {
        $detail = [string] $Problem.detail
    }
    $message = $title
    if ($detail) {
        $message = "${title}: $detail"
    }
    $category = Get-SsprErrorCategory -Status $status -Code $code -ExitCode $ExitCode
    $exception = [System.Exception]::new($message)
    $exception.Data['Problem'] = $Problem
    $exception.Data['ExitCode'] = $ExitCode
    $record = [System.Management.Automation.ErrorRecord]::new($exception, "Sspr.$code", $category, $Tenant)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($message)
    if ($detail) {
        $record.ErrorDetails.RecommendedAction = $detail
    }
    $record
}
