//! Reads the parts of a CSDL (OData `$metadata`) document that describe the
//! shape of JSON bodies: structured types, their properties and enum types.

use std::collections::HashMap;

use crate::edm::Primitive;

/// A reference to a type: a primitive or a fully qualified structured/enum
/// type name (aliases already replaced by their namespace), maybe a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub collection: bool,
    pub target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Primitive(Primitive),
    /// Fully qualified name of an entity, complex or enum type.
    Named(String),
}

impl TypeRef {
    /// The CSDL spelling, e.g. `Collection(microsoft.graph.x)`.
    pub fn display(&self) -> String {
        let inner = match &self.target {
            Target::Primitive(p) => format!("Edm.{p:?}"),
            Target::Named(name) => name.clone(),
        };
        if self.collection {
            format!("Collection({inner})")
        } else {
            inner
        }
    }
}

/// A `<Property>` or `<NavigationProperty>`.
#[derive(Debug, Clone)]
pub struct Property {
    pub type_ref: TypeRef,
    /// `Nullable` facet; CSDL's default is `true`. For collections it governs the items.
    pub nullable: bool,
    pub navigation: bool,
    /// `ContainsTarget="true"` on a navigation property (e.g. `authenticationMethodConfigurations`).
    pub contains_target: bool,
}

/// An `<EntityType>` or `<ComplexType>`.
#[derive(Debug, Clone)]
pub struct StructuredType {
    /// Fully qualified, e.g. `microsoft.graph.authorizationPolicy`.
    pub name: String,
    pub is_entity: bool,
    /// Fully qualified base type name.
    pub base: Option<String>,
    pub is_abstract: bool,
    /// `OpenType="true"` as written on this type (see `Schema` docs on inheritance).
    pub open: bool,
    /// Own (not inherited) properties and navigation properties by name.
    pub properties: HashMap<String, Property>,
}

/// An `<EnumType>`.
#[derive(Debug, Clone)]
pub struct EnumType {
    pub name: String,
    pub is_flags: bool,
    pub members: Vec<String>,
}

/// Everything read from one CSDL document.
#[derive(Debug, Default)]
pub struct Model {
    pub structured: HashMap<String, StructuredType>,
    pub enums: HashMap<String, EnumType>,
    /// Alias → namespace, e.g. `graph` → `microsoft.graph`, `self` → `microsoft.graph.security`.
    pub aliases: HashMap<String, String>,
}

impl Model {
    pub fn parse(xml: &str) -> Result<Model, String> {
        // roxmltree rejects a leading byte-order mark; Microsoft's file has one.
        let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
        let doc = roxmltree::Document::parse(xml).map_err(|e| format!("CSDL is not XML: {e}"))?;
        let schemas: Vec<roxmltree::Node> = doc
            .descendants()
            .filter(|n| n.has_tag_name("Schema"))
            .collect();
        let mut model = Model::default();
        // Aliases are document-wide in CSDL, so collect them before resolving any name.
        for schema in &schemas {
            if let (Some(ns), Some(alias)) =
                (schema.attribute("Namespace"), schema.attribute("Alias"))
            {
                model.aliases.insert(alias.to_owned(), ns.to_owned());
            }
        }
        for schema in &schemas {
            let namespace = schema
                .attribute("Namespace")
                .ok_or("<Schema> without Namespace")?;
            for node in schema.children().filter(roxmltree::Node::is_element) {
                match node.tag_name().name() {
                    "EntityType" | "ComplexType" => {
                        let t = model.structured_type(namespace, node)?;
                        model.structured.insert(t.name.clone(), t);
                    }
                    "EnumType" => {
                        let t = enum_type(namespace, node)?;
                        model.enums.insert(t.name.clone(), t);
                    }
                    _ => {}
                }
            }
        }
        Ok(model)
    }

    fn structured_type(
        &self,
        namespace: &str,
        node: roxmltree::Node,
    ) -> Result<StructuredType, String> {
        let name = qualified(namespace, node)?;
        let mut properties = HashMap::new();
        for child in node.children().filter(roxmltree::Node::is_element) {
            let navigation = match child.tag_name().name() {
                "Property" => false,
                "NavigationProperty" => true,
                _ => continue,
            };
            let prop_name = child
                .attribute("Name")
                .ok_or_else(|| format!("property without Name on {name}"))?;
            let type_name = child
                .attribute("Type")
                .ok_or_else(|| format!("{name}.{prop_name} has no Type"))?;
            let property = Property {
                type_ref: self.type_ref(type_name),
                nullable: child.attribute("Nullable") != Some("false"),
                navigation,
                contains_target: child.attribute("ContainsTarget") == Some("true"),
            };
            properties.insert(prop_name.to_owned(), property);
        }
        Ok(StructuredType {
            is_entity: node.tag_name().name() == "EntityType",
            base: node.attribute("BaseType").map(|b| self.resolve(b)),
            is_abstract: node.attribute("Abstract") == Some("true"),
            open: node.attribute("OpenType") == Some("true"),
            name,
            properties,
        })
    }

    /// Parses `Edm.X`, `alias.X`, `Namespace.X` and `Collection(...)` of those.
    pub fn type_ref(&self, text: &str) -> TypeRef {
        let (collection, inner) = match text
            .strip_prefix("Collection(")
            .and_then(|t| t.strip_suffix(')'))
        {
            Some(inner) => (true, inner),
            None => (false, text),
        };
        let target = match inner.strip_prefix("Edm.") {
            Some(primitive) => Target::Primitive(Primitive::from_name(primitive)),
            None => Target::Named(self.resolve(inner)),
        };
        TypeRef { collection, target }
    }

    /// Replaces a leading alias (`graph.`, `self.`) by its namespace.
    pub fn resolve(&self, qualified: &str) -> String {
        match qualified.rsplit_once('.') {
            Some((prefix, local)) => match self.aliases.get(prefix) {
                Some(namespace) => format!("{namespace}.{local}"),
                None => qualified.to_owned(),
            },
            None => qualified.to_owned(),
        }
    }
}

fn qualified(namespace: &str, node: roxmltree::Node) -> Result<String, String> {
    let name = node
        .attribute("Name")
        .ok_or_else(|| format!("<{}> without Name in {namespace}", node.tag_name().name()))?;
    Ok(format!("{namespace}.{name}"))
}

fn enum_type(namespace: &str, node: roxmltree::Node) -> Result<EnumType, String> {
    let name = qualified(namespace, node)?;
    let members = node
        .children()
        .filter(|c| c.has_tag_name("Member"))
        .map(|c| {
            c.attribute("Name")
                .map(str::to_owned)
                .ok_or_else(|| format!("member without Name in {name}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(EnumType {
        is_flags: node.attribute("IsFlags") == Some("true"),
        name,
        members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="color" IsFlags="true"><Member Name="red" Value="1"/><Member Name="blue" Value="2"/></EnumType>
      <EntityType Name="entity" Abstract="true"><Key><PropertyRef Name="id"/></Key>
        <Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
      <EntityType Name="thing" BaseType="graph.entity" OpenType="true">
        <Property Name="tags" Type="Collection(Edm.String)"/>
        <NavigationProperty Name="parts" Type="Collection(sec.part)" ContainsTarget="true"/>
        <Annotation Term="Org.OData.Core.V1.Description" String="not a property"/>
      </EntityType>
    </Schema>
    <Schema Namespace="microsoft.graph.security" Alias="sec" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <ComplexType Name="part"><Property Name="color" Type="graph.color"/></ComplexType>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>"#;

    #[test]
    fn parses_types_aliases_and_facets() {
        let model = Model::parse(&format!("\u{feff}{XML}")).expect("parses");
        let thing = &model.structured["microsoft.graph.thing"];
        assert!(thing.is_entity && thing.open && !thing.is_abstract);
        assert_eq!(thing.base.as_deref(), Some("microsoft.graph.entity"));
        assert_eq!(thing.properties.len(), 2, "annotations are not properties");
        let parts = &thing.properties["parts"];
        assert!(parts.navigation && parts.contains_target && parts.nullable);
        assert_eq!(
            parts.type_ref.display(),
            "Collection(microsoft.graph.security.part)"
        );
        assert!(!model.structured["microsoft.graph.entity"].properties["id"].nullable);
        let part = &model.structured["microsoft.graph.security.part"];
        assert_eq!(
            part.properties["color"].type_ref.display(),
            "microsoft.graph.color"
        );
        let color = &model.enums["microsoft.graph.color"];
        assert!(color.is_flags);
        assert_eq!(color.members, ["red", "blue"]);
    }
}
