function Get-SsprPlatform {
    <#
    .SYNOPSIS
    The runtime identifier of this machine (linux-x64, osx-arm64, win-x64, ...), the name of the
    folder under bin/ that holds the binary built for it.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $architecture = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
    $os = 'linux'
    if ($IsWindows) {
        $os = 'win'
    }
    elseif ($IsMacOS) {
        $os = 'osx'
    }
    "$os-$architecture"
}

function Test-SsprExecutable {
    <#
    .SYNOPSIS
    Whether the file has its execute bit (always true on Windows).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory)] [string] $Path)
    if ($IsWindows) {
        return $true
    }
    # test(1) asks the kernel, which also knows about ACLs and noexec mounts.
    & '/bin/sh' -c 'test -x "$1"' 'sh' $Path
    $LASTEXITCODE -eq 0
}

function Resolve-SsprCliPath {
    <#
    .SYNOPSIS
    The sspr binary to run: the one bundled for this platform, else $env:SSPR_CLI, else sspr on
    PATH; checked to be executable and of the module's version. Throws a terminating error for
    the calling cmdlet otherwise.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet)

    $name = 'sspr'
    if ($IsWindows) {
        $name = 'sspr.exe'
    }
    $platform = Get-SsprPlatform
    $bundled = Join-Path $script:ModuleRoot (Join-Path 'bin' (Join-Path $platform $name))
    $path = $null
    if (Test-Path -LiteralPath $bundled -PathType Leaf) {
        $path = $bundled
    }
    elseif ($env:SSPR_CLI) {
        if (-not (Test-Path -LiteralPath $env:SSPR_CLI -PathType Leaf)) {
            $Cmdlet.ThrowTerminatingError((New-SsprModuleError -Id 'CliNotFound' -Category ObjectNotFound -Target $env:SSPR_CLI `
                        -Message "SSPR_CLI names $($env:SSPR_CLI), which is not a file." `
                        -Action 'Set SSPR_CLI to the path of the sspr binary, or unset it to use the bundled one or sspr on PATH.'))
        }
        $path = $env:SSPR_CLI
    }
    else {
        $found = Get-Command -Name 'sspr' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($found) {
            $path = $found.Source
        }
    }
    if (-not $path) {
        $Cmdlet.ThrowTerminatingError((New-SsprModuleError -Id 'CliNotFound' -Category ObjectNotFound -Target $platform `
                    -Message "No sspr binary: none bundled for $platform ($bundled), SSPR_CLI is not set and sspr is not on PATH." `
                    -Action 'Install the module build for this platform, or set SSPR_CLI to the path of the sspr binary.'))
    }

    if (-not (Test-SsprExecutable -Path $path)) {
        # Module packages lose the execute bit on Linux and macOS; restore it when allowed to.
        & chmod '+x' $path 2>$null
        if (-not (Test-SsprExecutable -Path $path)) {
            $Cmdlet.ThrowTerminatingError((New-SsprModuleError -Id 'CliNotExecutable' -Category PermissionDenied -Target $path `
                        -Message "$path is not executable and this user may not change that." `
                        -Action "Run: chmod +x '$path' (as its owner), or install the module with -Scope CurrentUser."))
        }
    }

    if (-not $script:CheckedCli.ContainsKey($path)) {
        $versionArguments = @('--version')
        $reported = (& $path $versionArguments 2>$null | Select-Object -First 1)
        $version = $null
        if ($reported -match '^sspr (\d+\.\d+\.\d+)') {
            $version = [version] $Matches[1]
        }
        if ($version -ne $script:ModuleVersion) {
            $Cmdlet.ThrowTerminatingError((New-SsprModuleError -Id 'CliVersionMismatch' -Category InvalidOperation -Target $path `
                        -Message "$path is sspr $version, but SsprAdmin $($script:ModuleVersion) needs sspr $($script:ModuleVersion)." `
                        -Action "Install sspr $($script:ModuleVersion), or the SsprAdmin module of the binary's version."))
        }
        $script:CheckedCli[$path] = $version
    }
    $path
}
