# Integration tests: the real demo (emulator and service, `sspr-service demo`) driven through
# the real `sspr` binary. Skipped only when the binaries are absent: build them with
# `cargo build -p sspr-service -p sspr-client`.

BeforeDiscovery {
    $root = Join-Path $PSScriptRoot '../..'
    $suffix = ''
    if ($IsWindows) {
        $suffix = '.exe'
    }
    $binariesPresent = (Test-Path -LiteralPath (Join-Path $root "target/debug/sspr$suffix")) -and
    (Test-Path -LiteralPath (Join-Path $root "target/debug/sspr-service$suffix"))
}

Describe 'SsprAdmin against the demo' -Skip:(-not $binariesPresent) {
    BeforeAll {
        $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
        $suffix = ''
        if ($IsWindows) {
            $suffix = '.exe'
        }
        $savedCli = $env:SSPR_CLI
        $env:SSPR_CLI = Join-Path $root "target/debug/sspr$suffix"
        $demoOut = Join-Path $TestDrive 'demo.out'
        $demoErr = Join-Path $TestDrive 'demo.err'
        $demo = Start-Process -FilePath (Join-Path $root "target/debug/sspr-service$suffix") -ArgumentList 'demo', '--port', '0' `
            -RedirectStandardOutput $demoOut -RedirectStandardError $demoErr -PassThru
        # The demo prints `export SSPR_URL=...` lines once it serves.
        $exports = @{}
        foreach ($attempt in 1..150) {
            if (Test-Path -LiteralPath $demoOut) {
                foreach ($line in Get-Content -LiteralPath $demoOut) {
                    if ($line -match '^export (SSPR_\w+)=(.*)$') {
                        $exports[$Matches[1]] = $Matches[2].Trim("'", '"')
                    }
                }
            }
            if ($exports.ContainsKey('SSPR_ADMIN_TOKEN') -or $demo.HasExited) {
                break
            }
            Start-Sleep -Milliseconds 200
        }
        if (-not $exports.ContainsKey('SSPR_ADMIN_TOKEN')) {
            throw "the demo printed no exports: $(Get-Content -Raw -LiteralPath $demoOut) $(Get-Content -Raw -LiteralPath $demoErr)"
        }
        $url = $exports['SSPR_URL']
        $token = ConvertTo-SecureString -String $exports['SSPR_TOKEN'] -AsPlainText -Force
        $adminToken = ConvertTo-SecureString -String $exports['SSPR_ADMIN_TOKEN'] -AsPlainText -Force
        Import-Module (Join-Path $PSScriptRoot '../SsprAdmin/SsprAdmin.psd1') -Force
        Connect-Sspr -Url $url -Token $token | Out-Null
    }

    AfterAll {
        Disconnect-Sspr
        Remove-Module SsprAdmin -ErrorAction SilentlyContinue
        if ($demo -and -not $demo.HasExited) {
            Stop-Process -Id $demo.Id
        }
        $env:SSPR_CLI = $savedCli
    }

    It 'lists the tenants as SsprAdmin.Tenant objects' {
        $tenants = @(Get-SsprTenant)
        $tenants.domain | Should -Contain 'contoso.onmicrosoft.com'
        $tenants.domain | Should -Contain 'fabrikam.onmicrosoft.com'
        $tenants[0].PSObject.TypeNames[0] | Should -Be 'SsprAdmin.Tenant'
    }

    It 'pipes tenants into Get-SsprRegistrationSummary' {
        $summaries = @(Get-SsprTenant -Tenant contoso.onmicrosoft.com | Get-SsprRegistrationSummary)
        $summaries.Count | Should -Be 1
        $summaries[0].tenant.domain | Should -Be 'contoso.onmicrosoft.com'
        $summaries[0].totalUsers | Should -BeGreaterThan 0
    }

    It 'streams registrations, filtered in the CLI vocabulary' {
        $users = @(Get-SsprRegistration -Tenant contoso.onmicrosoft.com -Sspr enabledNotRegistered)
        $users.Count | Should -BeGreaterThan 0
        foreach ($user in $users) {
            $user.isSsprEnabled | Should -BeTrue
            $user.isSsprRegistered | Should -BeFalse
        }
        @(Get-SsprRegistration -Tenant contoso.onmicrosoft.com | Select-Object -First 1).Count | Should -Be 1
    }

    It 'reads the policy, and -WhatIf changes nothing' {
        $before = Get-SsprPolicy -Tenant contoso.onmicrosoft.com
        $days = $before.registration.reconfirmDays
        $other = 91
        if ($days -eq 91) {
            $other = 92
        }
        Set-SsprPolicy -Tenant contoso.onmicrosoft.com -ReconfirmDays $other -WhatIf
        (Get-SsprPolicy -Tenant contoso.onmicrosoft.com).registration.reconfirmDays | Should -Be $days
    }

    It 'changes the policy with -Confirm:$false' {
        $before = (Get-SsprPolicy -Tenant contoso.onmicrosoft.com).registration.reconfirmDays
        $other = 93
        if ($before -eq 93) {
            $other = 94
        }
        $result = Set-SsprPolicy -Tenant contoso.onmicrosoft.com -ReconfirmDays $other -Confirm:$false
        $result.changed | Should -BeTrue
        (Get-SsprPolicy -Tenant contoso.onmicrosoft.com).registration.reconfirmDays | Should -Be $other
    }

    It 'gives an unknown tenant as a non-terminating Sspr.unknownTenant error naming it' {
        $errors = $null
        Get-SsprPolicy -Tenant nosuch.example -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'Sspr.unknownTenant,*'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be 'nosuch.example'
        $errors[0].Exception.Data['ExitCode'] | Should -Be 4
    }

    It 'writes each failed tenant of a fleet summary as its own error and keeps the others' {
        $errors = $null
        $summaries = @(Get-SsprRegistrationSummary -AllTenant -Strict -ErrorVariable errors -ErrorAction SilentlyContinue)
        $summaries.tenant.domain | Should -Contain 'contoso.onmicrosoft.com'
        $fabrikam = @($errors | Where-Object TargetObject -EQ 'fabrikam.onmicrosoft.com')
        $fabrikam.Count | Should -Be 1
        $fabrikam[0].FullyQualifiedErrorId | Should -BeLike 'Sspr.licenseRequired,*'
        $fabrikam[0].CategoryInfo.Category | Should -Be 'NotEnabled'
    }

    It 'verifies a tenant with a missing permission: the verdict and a warning' {
        Connect-Sspr -Url $url -Token $adminToken | Out-Null
        try {
            $warnings = $null
            $verdict = Test-SsprTenant -Tenant tailspin.onmicrosoft.com -WarningVariable warnings -WarningAction SilentlyContinue
            $verdict.tokenIssued | Should -BeTrue
            "$warnings" | Should -BeLike '*conditionalAccess*'
        }
        finally {
            Connect-Sspr -Url $url -Token $token | Out-Null
        }
    }

    It 'stops at once when the token is refused' {
        Connect-Sspr -Url $url -Token (ConvertTo-SecureString -String 'not.a.token' -AsPlainText -Force) | Out-Null
        try {
            $caught = $null
            try {
                Get-SsprTenant
            }
            catch {
                $caught = $_
            }
            $caught | Should -Not -BeNullOrEmpty
            $caught.Exception.Data['ExitCode'] | Should -Be 3
        }
        finally {
            Connect-Sspr -Url $url -Token $token | Out-Null
        }
    }

    It 'stops at once when the service cannot be reached' {
        Connect-Sspr -Url 'http://127.0.0.1:9/' -Token $token | Out-Null
        try {
            { Get-SsprTenant } | Should -Throw -ErrorId 'Sspr.connection*'
        }
        finally {
            Connect-Sspr -Url $url -Token $token | Out-Null
        }
    }
}
