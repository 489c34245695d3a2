function New-SsprModuleError {
    <#
    .SYNOPSIS
    An error record of the module itself (no binary, a binary of another version), with ErrorId
    Sspr.<Id> like the CLI's problems.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [string] $Id,
        [Parameter(Mandatory)] [System.Management.Automation.ErrorCategory] $Category,
        [Parameter(Mandatory)] [string] $Message,
        [Parameter(Mandatory)] [string] $Action,
        [object] $Target
    )
    $exception = [System.InvalidOperationException]::new($Message)
    $record = [System.Management.Automation.ErrorRecord]::new($exception, "Sspr.$Id", $Category, $Target)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($Message)
    $record.ErrorDetails.RecommendedAction = $Action
    $record
}
