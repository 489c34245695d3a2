# Meta tests: the manifest loads, its exports are exactly the files of Public/, every exported
# cmdlet has help with an example and uses an approved verb, and every change asks first.

BeforeDiscovery {
    $manifest = Join-Path $PSScriptRoot '../SsprAdmin/SsprAdmin.psd1'
    Import-Module $manifest -Force
    $exported = @((Get-Command -Module SsprAdmin -CommandType Function).Name)
}

BeforeAll {
    $moduleRoot = Join-Path $PSScriptRoot '../SsprAdmin'
    $manifest = Join-Path $moduleRoot 'SsprAdmin.psd1'
    Import-Module $manifest -Force
}

AfterAll {
    Remove-Module SsprAdmin -ErrorAction SilentlyContinue
}

Describe 'The manifest' {
    It 'is a valid manifest for PowerShell 7.2 and later, Core only' {
        $module = Test-ModuleManifest -Path $manifest -ErrorAction Stop
        $module.Name | Should -Be 'SsprAdmin'
        $module.PowerShellVersion | Should -Be ([version] '7.2')
        $data = Import-PowerShellDataFile -Path $manifest
        $data.CompatiblePSEditions | Should -Be @('Core')
        $data.FormatsToProcess | Should -Be @('SsprAdmin.Format.ps1xml')
    }

    It 'exports exactly one function per file of Public/, without wildcards' {
        $files = @(Get-ChildItem -Path (Join-Path $moduleRoot 'Public') -Filter '*.ps1' -File | ForEach-Object BaseName | Sort-Object)
        $listed = @((Import-PowerShellDataFile -Path $manifest).FunctionsToExport | Sort-Object)
        $listed | Should -Be $files
        $listed | Where-Object { $_ -match '[*?]' } | Should -BeNullOrEmpty
        @((Get-Command -Module SsprAdmin -CommandType Function).Name | Sort-Object) | Should -Be $files
    }

    It 'keeps the private functions private' {
        Get-Command -Module SsprAdmin -Name 'Invoke-SsprCli' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'has the version of the CLI crate it wraps' {
        $cargo = Get-Content -Raw -Path (Join-Path $PSScriptRoot '../../Cargo.toml')
        $cargo -match '(?m)^version\s*=\s*"([^"]+)"' | Should -BeTrue
        (Import-PowerShellDataFile -Path $manifest).ModuleVersion | Should -Be $Matches[1]
    }
}

Describe '<_>' -ForEach $exported {
    BeforeAll {
        $name = $_
        $command = Get-Command -Name $name -Module SsprAdmin
        $help = Get-Help -Name $name -Full
    }

    It 'uses an approved verb' {
        (Get-Verb).Verb | Should -Contain $command.Verb
    }

    It 'has a synopsis and at least one example' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$name*" -Because 'a synopsis written by hand, not the syntax PowerShell makes up'
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 1
    }

    It 'describes every parameter' {
        $common = @([System.Management.Automation.Cmdlet]::CommonParameters) + @([System.Management.Automation.Cmdlet]::OptionalCommonParameters)
        foreach ($parameter in $command.Parameters.Keys | Where-Object { $common -notcontains $_ }) {
            $described = $help.Parameters.Parameter | Where-Object Name -EQ $parameter
            ($described.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter of $name"
        }
    }

    It 'asks before it changes anything' {
        if ($name -match '^(Get|Compare|Test|New|Connect|Disconnect)-') {
            Set-ItResult -Skipped -Because "$name changes nothing"
            return
        }
        $binding = $command.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] }
        $binding.SupportsShouldProcess | Should -BeTrue
        $binding.ConfirmImpact | Should -Be 'High'
    }
}
