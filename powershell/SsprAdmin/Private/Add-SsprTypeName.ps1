function Add-SsprTypeName {
    <#
    .SYNOPSIS
    Tags each object with a PSTypeName (SsprAdmin.Tenant, ...), which picks its table view in
    SsprAdmin.Format.ps1xml; passes each on at once, so listings keep streaming.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $TypeName,
        [Parameter(ValueFromPipeline)] [object] $InputObject
    )
    process {
        if ($null -ne $InputObject) {
            $InputObject.PSObject.TypeNames.Insert(0, $TypeName)
            $InputObject
        }
    }
}
