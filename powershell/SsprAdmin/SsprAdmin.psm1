# SsprAdmin: PowerShell cmdlets over the `sspr` command line. Every call goes through the private
# Invoke-SsprCli, so finding the binary, signing in, reading its JSON and turning its problem
# documents into error records happen in one place.

# The module's folder: the bundled binaries are under bin/<os>-<arch>/.
$script:ModuleRoot = $PSScriptRoot
# The CLI must be of the module's version: the module passes flags of that version.
$script:ModuleVersion = [version] (Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot 'SsprAdmin.psd1')).ModuleVersion
# Set by Connect-Sspr: the service URL and how to sign in, secrets as SecureString. Never printed.
$script:SsprSession = $null
# Binaries whose version was checked, so `sspr --version` runs once per binary and session.
$script:CheckedCli = @{}

foreach ($folder in @('Private', 'Public')) {
    $files = Get-ChildItem -Path (Join-Path $PSScriptRoot $folder) -Filter '*.ps1' -File
    foreach ($file in $files) {
        . $file.FullName
    }
}

# One exported function per file of Public/ (the manifest lists the same names; the tests check).
$public = Get-ChildItem -Path (Join-Path $PSScriptRoot 'Public') -Filter '*.ps1' -File
Export-ModuleMember -Function $public.BaseName
