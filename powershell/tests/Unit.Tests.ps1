# Unit tests: no binary runs. The cmdlets' calls are checked with Invoke-SsprCli mocked (the
# arguments they build, -WhatIf, pipeline binding); the gateway's error mapping with the one
# function that starts the process (Invoke-SsprNative) mocked, since a mock cannot set an exit
# code ($LASTEXITCODE) the way a native process does. Mock bodies and filters hold only
# literals, so they mean the same whichever scope Pester runs them in.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../SsprAdmin/SsprAdmin.psd1') -Force

    # The body of a mocked Invoke-SsprNative: stdout lines, then the exit code and stderr, as
    # literals in a script block of their own.
    function New-NativeAnswer {
        param([string[]] $Line = @(), [int] $ExitCode = 0, [string] $StdErr = '')
        $quote = { param($text) "'" + $text.Replace("'", "''") + "'" }
        $body = foreach ($one in $Line) {
            & $quote $one
        }
        $body = @($body) + "[pscustomobject]@{ PSTypeName = 'SsprAdmin.NativeExit'; ExitCode = $ExitCode; StdErr = $(& $quote $StdErr) }"
        [scriptblock]::Create($body -join "`n")
    }
}

AfterAll {
    Remove-Module SsprAdmin -ErrorAction SilentlyContinue
}

Describe 'The arguments each cmdlet gives the CLI' {
    BeforeEach {
        Mock -ModuleName SsprAdmin Invoke-SsprCli { return }
    }

    It 'Get-SsprTenant lists, with a --tag per tag' {
        Get-SsprTenant -Tag 'region:eu', 'tier:gold'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'tenants list --tag region:eu --tag tier:gold'
        }
    }

    It 'Get-SsprTenant -Tenant shows one' {
        Get-SsprTenant -Tenant 'contoso.com'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'tenants show --tenant contoso.com' -and $Tenant -eq 'contoso.com'
        }
    }

    It 'Get-SsprReadiness reads one tenant as JSON, the fleet as NDJSON, and a report as text' {
        Get-SsprReadiness -Tenant 'contoso.com'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'readiness --tenant contoso.com --format json' -and -not $Text
        }
        Get-SsprReadiness -AllTenant
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'readiness --all-tenants --format ndjson' -and $Stream -and $Fleet
        }
        Get-SsprReadiness -AllTenant -AsHtml
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'readiness --all-tenants --format html' -and $Text
        }
    }

    It 'Get-SsprUserGuide asks for Markdown unless told otherwise' {
        Get-SsprUserGuide -Tenant 'contoso.com'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'user-guide --tenant contoso.com --format md' -and $Text
        }
        Get-SsprUserGuide -Tenant 'contoso.com' -AsObject
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'user-guide --tenant contoso.com --format json' -and -not $Text
        }
    }

    It 'Get-SsprRegistration streams NDJSON and passes its filters in the CLI vocabulary' {
        Get-SsprRegistration -Tenant 'contoso.com' -Sspr enabledNotRegistered -Admin $false -Method 'email', 'mobilePhone'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            $expected = 'registrations list --tenant contoso.com --format ndjson --quiet --sspr enabledNotRegistered --admin false --methods email,mobilePhone'
            $Stream -and ($Arguments -join ' ') -eq $expected
        }
    }

    It 'refuses a filter value the CLI does not know, before calling it' {
        { Get-SsprRegistration -Tenant 'contoso.com' -Sspr 'nobody' } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 0 -Exactly
    }

    It 'Get-SsprAuditRecord reads every page unless -FirstPage, with the time in UTC' {
        Get-SsprAuditRecord -Outcome failed -Since ([datetime]::new(2026, 1, 31, 8, 0, 0, [System.DateTimeKind]::Utc))
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'audit list --since 2026-01-31T08:00:00Z --outcome failed --all'
        }
        Get-SsprAuditRecord -FirstPage -PageSize 10
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'audit list --limit 10'
        }
    }

    It 'Compare-SsprPolicy turns settings into the CLI flags' {
        Compare-SsprPolicy -Tenant 'contoso.com' -ReconfirmDays 90 -NotifyAdmins $true -DisableMethod securityQuestions
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'policy diff --tenant contoso.com --method securityQuestions=off --reconfirm-days 90 --notify-admins on'
        }
    }

    It 'Grant-SsprAccess joins the tenants with commas' {
        Grant-SsprAccess -Principal 'p1' -Tenant 'tag:region:eu', 'contoso.com' -Role SSPR.Read -Confirm:$false
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'access grant --principal p1 --tenants tag:region:eu,contoso.com --role SSPR.Read'
        }
    }

    It 'Add-SsprTenant sends a client secret through standard input, never as an argument' {
        $secret = ConvertTo-SecureString -String 'hunter2-secret' -AsPlainText -Force
        Add-SsprTenant -Tenant 'adatum.com' -CredentialKind client-secret -AppId 'app' -ClientSecret $secret -Confirm:$false
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'tenants add --tenant adatum.com --credential client-secret --app-id app --client-secret-stdin' -and
            $null -ne $InputSecret -and ($Arguments -join ' ') -notmatch 'hunter2'
        }
    }
}

Describe 'Pipeline binding' {
    BeforeEach {
        Mock -ModuleName SsprAdmin Invoke-SsprCli { return }
    }

    It 'binds a tenant''s Domain to -Tenant: Get-SsprTenant | Get-SsprRegistrationSummary' {
        $tenants = @(
            [pscustomobject]@{ id = 'id-a'; domain = 'a.example' },
            [pscustomobject]@{ id = 'id-b'; domain = 'b.example' }
        )
        $tenants | Get-SsprRegistrationSummary
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 2 -Exactly
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'registrations summary --tenant a.example'
        }
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'registrations summary --tenant b.example'
        }
    }

    It 'binds a tenant''s Id to Set-SsprTenant -Tenant' {
        [pscustomobject]@{ id = 'id-a'; domain = 'a.example' } | Set-SsprTenant -ClearTag -Confirm:$false
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'tenants update --tenant id-a --clear-tags'
        }
    }

    It 'binds a partner customer''s TenantId to Add-SsprTenant -Tenant' {
        [pscustomobject]@{ tenantId = 't-1'; defaultDomain = 'adatum.example'; onboarded = $false } |
            Add-SsprTenant -CredentialKind default -Confirm:$false
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'tenants add --tenant t-1 --credential default'
        }
    }

    It 'binds a grant''s Id to Revoke-SsprAccess' {
        [pscustomobject]@{ id = 'g-1'; principal = 'p' } | Revoke-SsprAccess -Confirm:$false
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'access revoke --id g-1 --yes'
        }
    }
}

Describe '-WhatIf and -Confirm on changes' {
    BeforeEach {
        Mock -ModuleName SsprAdmin Invoke-SsprCli { 'Plan: registration.reconfirmDays 180 -> 90' } -ParameterFilter { $Arguments -contains '--dry-run' }
        Mock -ModuleName SsprAdmin Invoke-SsprCli { [pscustomobject]@{ changed = $true } } -ParameterFilter { $Arguments -contains '--yes' }
    }

    It 'Set-SsprPolicy -WhatIf asks the CLI for its plan and applies nothing' {
        Set-SsprPolicy -Tenant 'contoso.com' -ReconfirmDays 90 -WhatIf
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            $Text -and ($Arguments -join ' ') -eq 'policy set --tenant contoso.com --reconfirm-days 90 --dry-run'
        }
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 0 -Exactly -ParameterFilter { $Arguments -contains '--yes' }
    }

    It 'Set-SsprPolicy -Confirm:$false applies at once, without a plan first' {
        $result = Set-SsprPolicy -Tenant 'contoso.com' -ReconfirmDays 90 -Confirm:$false
        $result.changed | Should -BeTrue
        $result.PSObject.TypeNames[0] | Should -Be 'SsprAdmin.PolicyChange'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'policy set --tenant contoso.com --reconfirm-days 90 --yes'
        }
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 0 -Exactly -ParameterFilter { $Arguments -contains '--dry-run' }
    }

    It 'Enable-SsprRegistrationProtection -WhatIf plans the promotion only' {
        Enable-SsprRegistrationProtection -Tenant 'contoso.com' -Force -WhatIf
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq 'registration-protection promote --tenant contoso.com --force --dry-run'
        }
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 0 -Exactly -ParameterFilter { $Arguments -contains '--yes' }
    }

    It 'Remove-SsprTenant -WhatIf calls nothing' {
        Mock -ModuleName SsprAdmin Invoke-SsprCli { return }
        Remove-SsprTenant -Tenant 'tailspin.example' -WhatIf
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 0 -Exactly
    }
}

Describe 'What the CLI answers' {
    It 'is tagged with its PSTypeName' {
        Mock -ModuleName SsprAdmin Invoke-SsprCli { [pscustomobject]@{ id = 'id-a'; domain = 'a.example' } }
        $tenant = Get-SsprTenant
        $tenant.PSObject.TypeNames[0] | Should -Be 'SsprAdmin.Tenant'
    }
}

Describe 'A change whose plan failed' {
    It 'applies nothing' {
        # The plan's error was written by the gateway; it gives no plan text.
        Mock -ModuleName SsprAdmin Invoke-SsprCli { return }
        Set-SsprRegistrationProtection -Tenant 'contoso.com' -Control mfa -Confirm
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 1 -Exactly -ParameterFilter { $Arguments -contains '--dry-run' }
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprCli -Times 0 -Exactly -ParameterFilter { $Arguments -contains '--yes' }
    }
}

Describe 'The gateway: output and errors' {
    BeforeEach {
        Mock -ModuleName SsprAdmin Resolve-SsprCliPath { '/fake/sspr' }
    }

    It 'passes --output json first and reads one JSON document' {
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -Line '[', '{"id": "a", "domain": "a.example"},', '{"id": "b", "domain": "b.example"}', ']')
        $tenants = @(Get-SsprTenant)
        $tenants.Count | Should -Be 2
        $tenants[1].domain | Should -Be 'b.example'
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprNative -Times 1 -Exactly -ParameterFilter {
            ($Arguments -join ' ') -eq '--output json tenants list'
        }
    }

    It 'makes one object of each NDJSON line' {
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -Line '{"userPrincipalName": "a@x"}', '', '{"userPrincipalName": "b@x"}')
        $users = @(Get-SsprRegistration -Tenant 'x')
        $users.userPrincipalName | Should -Be @('a@x', 'b@x')
        $users[0].PSObject.TypeNames[0] | Should -Be 'SsprAdmin.Registration'
    }

    It 'maps exit code <ExitCode> (<Code>) to <Category>, non-terminating, with the tenant as target' -ForEach @(
        @{ ExitCode = 2; Status = 422; Code = 'invalidField'; Category = 'InvalidData' }
        @{ ExitCode = 2; Status = 400; Code = 'invalidValue'; Category = 'InvalidArgument' }
        @{ ExitCode = 3; Status = 403; Code = 'permissionMissing'; Category = 'PermissionDenied' }
        @{ ExitCode = 4; Status = 404; Code = 'unknownTenant'; Category = 'ObjectNotFound' }
        @{ ExitCode = 5; Status = 503; Code = 'tenantBusy'; Category = 'ResourceUnavailable' }
        @{ ExitCode = 5; Status = 503; Code = 'timeout'; Category = 'OperationTimeout' }
        @{ ExitCode = 6; Status = 412; Code = 'preconditionFailed'; Category = 'InvalidOperation' }
        @{ ExitCode = 6; Status = 409; Code = 'conflict'; Category = 'ResourceExists' }
        @{ ExitCode = 7; Status = 403; Code = 'licenseRequired'; Category = 'NotEnabled' }
    ) {
        $problem = @{ type = "/problems/$Code"; title = 'It failed'; status = $Status; detail = "Do this about $Code."; code = $Code } |
            ConvertTo-Json -Compress
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -ExitCode $ExitCode -StdErr $problem)
        $errors = $null
        Get-SsprPolicy -Tenant 'contoso.com' -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike "Sspr.$Code,*"
        $errors[0].CategoryInfo.Category | Should -Be $Category
        $errors[0].TargetObject | Should -Be 'contoso.com'
        $errors[0].ErrorDetails.RecommendedAction | Should -Be "Do this about $Code."
        $errors[0].Exception.Data['ExitCode'] | Should -Be $ExitCode
        $errors[0].Exception.Data['Problem'].code | Should -Be $Code
    }

    It 'stops the pipeline on <Code> (exit code <ExitCode>)' -ForEach @(
        @{ ExitCode = 3; Code = 'unauthorized'; Category = 'AuthenticationError'; Problem = '{"type":"/problems/unauthorized","title":"Unauthorized","status":401,"detail":"The token expired.","code":"unauthorized"}' }
        @{ ExitCode = 3; Code = 'authentication'; Category = 'AuthenticationError'; Problem = '{"type":"/problems/cli/authentication","title":"No credentials","detail":"set SSPR_TOKEN","code":"authentication"}' }
        @{ ExitCode = 5; Code = 'connection'; Category = 'ConnectionError'; Problem = '{"type":"/problems/cli/connection","title":"Cannot connect","detail":"http://127.0.0.1:9/ refused","code":"connection"}' }
    ) {
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -ExitCode $ExitCode -StdErr $Problem)
        $caught = $null
        try {
            'a.example', 'b.example' | ForEach-Object { [pscustomobject]@{ domain = $_ } } | Get-SsprPolicy
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike "Sspr.$Code,*"
        $caught.CategoryInfo.Category | Should -Be $Category
        Should -Invoke -ModuleName SsprAdmin Invoke-SsprNative -Times 1 -Exactly
    }

    It 'goes on past one tenant''s failure in a pipeline' {
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -ExitCode 4 `
                -StdErr '{"type":"/problems/unknown-tenant","title":"Unknown tenant","status":404,"detail":"No such tenant.","code":"unknownTenant"}') `
            -ParameterFilter { $Arguments -contains 'gone.example' }
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -Line '{"totalUsers": 8}') -ParameterFilter { $Arguments -contains 'b.example' }
        $errors = $null
        $summaries = @('gone.example', 'b.example' | ForEach-Object { [pscustomobject]@{ domain = $_ } } |
                Get-SsprRegistrationSummary -ErrorVariable errors -ErrorAction SilentlyContinue)
        $summaries.totalUsers | Should -Be 8
        $errors.Count | Should -Be 1
        $errors[0].TargetObject | Should -Be 'gone.example'
    }

    It 'writes a fleet tenant''s failure as its own error, skips a tenant without the licence with a warning, and keeps the rest' {
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -ExitCode 5 -Line @(
                '{"tenant":"id-c","domain":"contoso.example","summary":{"totalUsers":8}}'
                '{"tenant":"id-f","domain":"fabrikam.example","problem":{"type":"/problems/license-required","title":"Licence required","status":403,"detail":"Needs P1.","code":"licenseRequired"},"skipped":true,"reason":"Needs P1."}'
                '{"tenant":"id-t","domain":"tailspin.example","problem":{"type":"/problems/upstream","title":"Graph failed","status":502,"detail":"Graph answered 500.","code":"upstream"}}'
            ) -StdErr '{"type":"/problems/cli/tenants-failed","title":"Some tenants failed","detail":"1 of 3 tenants failed","code":"tenantsFailed"}')
        $errors = $null
        $warnings = $null
        $summaries = @(Get-SsprRegistrationSummary -AllTenant -ErrorVariable errors -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue)
        $summaries.totalUsers | Should -Be 8
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'Sspr.upstream,*'
        $errors[0].TargetObject | Should -Be 'tailspin.example'
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike '*fabrikam.example*'
    }

    It 'warns when a verification found features unavailable, and still gives the verdict' {
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -ExitCode 8 -Line '{"tokenIssued": true, "features": []}' `
                -StdErr '{"type":"/problems/cli/features-unavailable","title":"Some features are unavailable","detail":"1 of 7 features are unavailable in tailspin: conditionalAccess","code":"featuresUnavailable"}')
        $errors = $null
        $warnings = $null
        $verdict = Test-SsprTenant -Tenant 'tailspin' -ErrorVariable errors -WarningVariable warnings -WarningAction SilentlyContinue
        $verdict.tokenIssued | Should -BeTrue
        $errors.Count | Should -Be 0
        "$($warnings[0])" | Should -BeLike '*conditionalAccess*'
    }

    It 'says what it saw when stderr is no problem document' {
        Mock -ModuleName SsprAdmin Invoke-SsprNative (New-NativeAnswer -ExitCode 4 -StdErr 'error: not found')
        $errors = $null
        Get-SsprPolicy -Tenant 'contoso.com' -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'Sspr.Unparseable,*'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].Exception.Message | Should -Be 'error: not found'
    }
}

Describe 'The session' {
    AfterEach {
        Disconnect-Sspr
    }

    It 'gives the token to the CLI through its environment and prints it nowhere' {
        $token = ConvertTo-SecureString -String 'eyJ.secret.token' -AsPlainText -Force
        $connection = Connect-Sspr -Url 'https://sspr.example/' -Token $token
        ($connection | Out-String) | Should -Not -Match 'eyJ'
        $environment = InModuleScope SsprAdmin { Get-SsprCliEnvironment }
        $environment['SSPR_URL'] | Should -Be 'https://sspr.example/'
        $environment['SSPR_AUTH'] | Should -Be 'token'
        $environment['SSPR_TOKEN'] | Should -Be 'eyJ.secret.token'
        # An inherited client secret cannot mix into a token sign-in.
        $environment.ContainsKey('SSPR_CLIENT_SECRET') | Should -BeTrue
        $environment['SSPR_CLIENT_SECRET'] | Should -BeNullOrEmpty
    }

    It 'keeps a client secret as the credential''s SecureString' {
        $secret = [pscredential]::new('app-id', (ConvertTo-SecureString -String 'hunter2' -AsPlainText -Force))
        Connect-Sspr -Url 'https://sspr.example/' -Authority 'https://login.example/tenant/' -ClientCredential $secret | Out-Null
        InModuleScope SsprAdmin { $script:SsprSession['SSPR_CLIENT_SECRET'] } | Should -BeOfType [securestring]
        $environment = InModuleScope SsprAdmin { Get-SsprCliEnvironment }
        $environment['SSPR_CLIENT_ID'] | Should -Be 'app-id'
        $environment['SSPR_CLIENT_SECRET'] | Should -Be 'hunter2'
    }

    It 'leaves the sign-in to the SSPR_* variables without one' {
        Connect-Sspr -Url 'https://sspr.example/' | Out-Null
        $environment = InModuleScope SsprAdmin { Get-SsprCliEnvironment }
        $environment.Keys | Should -Be @('SSPR_URL')
    }
}

Describe 'Finding the binary' -Skip:$IsWindows {
    BeforeEach {
        $saved = $env:SSPR_CLI
        InModuleScope SsprAdmin { $script:CheckedCli = @{} }
    }

    AfterEach {
        $env:SSPR_CLI = $saved
    }

    It 'refuses a binary of another version' {
        $fake = Join-Path $TestDrive 'sspr'
        Set-Content -Path $fake -Value "#!/bin/sh`necho 'sspr 99.0.0'"
        & chmod '+x' $fake
        $env:SSPR_CLI = $fake
        { Get-SsprTenant } | Should -Throw -ErrorId 'Sspr.CliVersionMismatch*'
    }

    It 'gives the execute bit back when the package lost it' {
        $fake = Join-Path $TestDrive 'sspr-without-x'
        Set-Content -Path $fake -Value "#!/bin/sh`necho 'sspr 99.0.0'"
        & chmod '-x' $fake
        $env:SSPR_CLI = $fake
        { Get-SsprTenant } | Should -Throw -ErrorId 'Sspr.CliVersionMismatch*'
        & '/bin/sh' -c 'test -x "$1"' 'sh' $fake
        $LASTEXITCODE | Should -Be 0
    }

    It 'names SSPR_CLI when it points nowhere' {
        $env:SSPR_CLI = Join-Path $TestDrive 'nothing-here'
        { Get-SsprTenant } | Should -Throw -ErrorId 'Sspr.CliNotFound*'
    }
}
