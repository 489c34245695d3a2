function Invoke-SsprNative {
    <#
    .SYNOPSIS
    Runs the binary: writes each line of its stdout to the pipeline as it arrives (a listing never
    sits in memory), then one SsprAdmin.NativeExit object with the exit code and all of stderr.
    Standard input gets the secret when given, else nothing: the CLI never waits for a person.
    #>
    [CmdletBinding()]
    [OutputType([string], 'SsprAdmin.NativeExit')]
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [string[]] $Arguments,
        # Variables for the child: a $null value removes one inherited from this session.
        [hashtable] $Environment = @{},
        [securestring] $InputSecret
    )
    $info = [System.Diagnostics.ProcessStartInfo]::new($Path)
    # ArgumentList passes each argument as one, whatever it holds: no quoting to get wrong.
    foreach ($argument in $Arguments) {
        $info.ArgumentList.Add($argument)
    }
    $info.UseShellExecute = $false
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.StandardOutputEncoding = [System.Text.UTF8Encoding]::new($false)
    $info.StandardErrorEncoding = [System.Text.UTF8Encoding]::new($false)
    foreach ($name in $Environment.Keys) {
        if ($null -eq $Environment[$name]) {
            [void] $info.Environment.Remove($name)
        }
        else {
            $info.Environment[$name] = [string] $Environment[$name]
        }
    }
    $process = [System.Diagnostics.Process]::Start($info)
    try {
        # Read stderr meanwhile, so a chatty stderr cannot block the child while stdout is read.
        $stderr = $process.StandardError.ReadToEndAsync()
        if ($InputSecret) {
            $process.StandardInput.WriteLine([System.Net.NetworkCredential]::new('', $InputSecret).Password)
        }
        $process.StandardInput.Close()
        while ($null -ne ($line = $process.StandardOutput.ReadLine())) {
            $line
        }
        $process.WaitForExit()
        [pscustomobject]@{
            PSTypeName = 'SsprAdmin.NativeExit'
            ExitCode   = $process.ExitCode
            StdErr     = $stderr.GetAwaiter().GetResult()
        }
    }
    finally {
        # The pipeline stopped early (Select-Object -First): the listing is not wanted any more.
        if (-not $process.HasExited) {
            $process.Kill()
        }
        $process.Dispose()
    }
}
