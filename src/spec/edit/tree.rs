//! A small mutable XML tree for editing libvirt's XML: read by quick-xml, written back by
//! its writer, so that every edit is an operation on elements and attributes and every
//! value is escaped on the way out. Names keep their prefixes (`libosinfo:os`), `xmlns`
//! declarations are attributes like any other, comments and text are kept.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

/// Why a text is not XML this module can edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("The description is not valid XML: {0}")]
    Parse(String),
    #[error("The description has no root element.")]
    NoRoot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
    Comment(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// Builder: the element with attribute `name` set to `value`.
    pub fn with_attr(mut self, name: &str, value: &str) -> Self {
        self.set_attr(name, value);
        self
    }

    /// Builder: the element with `child` appended.
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Builder: the element with its text set to `text`.
    pub fn with_text(mut self, text: &str) -> Self {
        self.set_text(text);
        self
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self.attributes.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.to_owned(),
            None => self.attributes.push((name.to_owned(), value.to_owned())),
        }
    }

    pub fn remove_attr(&mut self, name: &str) {
        self.attributes.retain(|(n, _)| n != name);
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.elements_mut().find(|e| e.name == name)
    }

    /// The child `name`, appended when missing.
    pub fn child_or_insert(&mut self, name: &str) -> &mut Element {
        if self.child(name).is_none() {
            self.children.push(Node::Element(Element::new(name)));
        }
        self.child_mut(name).expect("just inserted")
    }

    /// Inserts `child` after the last child element whose name is one of `after` (or
    /// first when none is there): libvirt's schema orders some elements.
    pub fn insert_after(&mut self, after: &[&str], child: Element) {
        let position = self
            .children
            .iter()
            .rposition(|n| matches!(n, Node::Element(e) if after.contains(&e.name.as_str())))
            .map_or(0, |i| i + 1);
        self.children.insert(position, Node::Element(child));
    }

    /// Removes every child element for which `remove` is true; says how many went.
    pub fn remove_children(&mut self, mut remove: impl FnMut(&Element) -> bool) -> usize {
        let before = self.children.len();
        self.children
            .retain(|n| !matches!(n, Node::Element(e) if remove(e)));
        before - self.children.len()
    }

    /// The element's own text (its text children joined).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Replaces the element's children with `text`.
    pub fn set_text(&mut self, text: &str) {
        self.children = vec![Node::Text(text.to_owned())];
    }

    /// Parses one XML document into its root element.
    pub fn parse(xml: &str) -> Result<Element, TreeError> {
        let mut reader = Reader::from_str(xml);
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        let error = |e: &dyn std::fmt::Display| TreeError::Parse(e.to_string());
        loop {
            let event = reader.read_event().map_err(|e| error(&e))?;
            match event {
                Event::Start(start) => stack.push(start_element(&start)?),
                Event::Empty(start) => {
                    let element = start_element(&start)?;
                    attach(&mut stack, &mut root, Node::Element(element));
                }
                Event::End(_) => {
                    let element = stack.pop().ok_or(TreeError::NoRoot)?;
                    attach(&mut stack, &mut root, Node::Element(element));
                }
                Event::Text(text) => {
                    let text = text.decode().map_err(|e| error(&e))?;
                    let text = quick_xml::escape::unescape(&text).map_err(|e| error(&e))?;
                    // Indentation; libvirt has no value that is only white space.
                    if text.trim().is_empty() {
                        continue;
                    }
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(Node::Text(text.into_owned()));
                    }
                }
                Event::GeneralRef(reference) => {
                    let name = reference.decode().map_err(|e| error(&e))?;
                    let escaped = format!("&{name};");
                    let text = quick_xml::escape::unescape(&escaped).map_err(|e| error(&e))?;
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(Node::Text(text.into_owned()));
                    }
                }
                Event::CData(data) => {
                    let text = String::from_utf8_lossy(&data).into_owned();
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(Node::Text(text));
                    }
                }
                Event::Comment(comment) => {
                    let text = String::from_utf8_lossy(&comment).into_owned();
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(Node::Comment(text));
                    }
                }
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if !stack.is_empty() {
            return Err(TreeError::Parse("an element is not closed".into()));
        }
        let mut root = root.ok_or(TreeError::NoRoot)?;
        root.merge_text();
        Ok(root)
    }

    /// Text split by entity references becomes one text node again.
    fn merge_text(&mut self) {
        let mut merged: Vec<Node> = Vec::with_capacity(self.children.len());
        for node in self.children.drain(..) {
            match (merged.last_mut(), node) {
                (Some(Node::Text(prev)), Node::Text(next)) => prev.push_str(&next),
                (_, Node::Element(mut e)) => {
                    e.merge_text();
                    merged.push(Node::Element(e));
                }
                (_, node) => merged.push(node),
            }
        }
        self.children = merged;
    }

    /// The element as an XML document, indented by two spaces as libvirt writes it.
    pub fn to_xml(&self) -> String {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        write_element(&mut writer, self);
        let mut out = String::from_utf8(writer.into_inner()).expect("written from strings");
        out.push('\n');
        out
    }
}

fn start_element(start: &BytesStart) -> Result<Element, TreeError> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut element = Element::new(&name);
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| TreeError::Parse(e.to_string()))?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute
            .unescape_value()
            .map_err(|e| TreeError::Parse(e.to_string()))?
            .into_owned();
        element.attributes.push((key, value));
    }
    Ok(element)
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => {
            if let Node::Element(e) = node {
                root.get_or_insert(e);
            }
        }
    }
}

fn write_element(writer: &mut Writer<Vec<u8>>, element: &Element) {
    let mut start = BytesStart::new(element.name.as_str());
    for (key, value) in &element.attributes {
        start.push_attribute((key.as_str(), value.as_str()));
    }
    let children = &element.children;
    // Writing into a Vec cannot fail.
    if children.is_empty() {
        let _ = writer.write_event(Event::Empty(start));
        return;
    }
    let _ = writer.write_event(Event::Start(start));
    for child in children {
        match child {
            Node::Element(e) => write_element(writer, e),
            Node::Text(t) => {
                let _ = writer.write_event(Event::Text(BytesText::new(t)));
            }
            Node::Comment(c) => {
                let _ = writer.write_event(Event::Comment(BytesText::from_escaped(c.as_str())));
            }
        }
    }
    let _ = writer.write_event(Event::End(BytesEnd::new(element.name.as_str())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_names_attributes_text_and_comments() {
        let xml = "<domain type='kvm'>\n  <name>a &amp; b</name>\n  <!-- note -->\n  \
                   <metadata><x:y xmlns:x=\"urn:x\" v=\"1 &lt; 2\"/></metadata>\n</domain>";
        let root = Element::parse(xml).unwrap();
        assert_eq!(root.child("name").unwrap().text(), "a & b");
        let meta = root.child("metadata").unwrap().child("x:y").unwrap();
        assert_eq!(meta.attr("xmlns:x"), Some("urn:x"));
        assert_eq!(meta.attr("v"), Some("1 < 2"));
        assert_eq!(
            root.to_xml(),
            "<domain type=\"kvm\">\n  <name>a &amp; b</name>\n  <!-- note -->\n  \
             <metadata>\n    <x:y xmlns:x=\"urn:x\" v=\"1 &lt; 2\"/>\n  </metadata>\n</domain>\n"
        );
        assert_eq!(Element::parse(&root.to_xml()).unwrap(), root);
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(Element::parse("<domain><name>x</domain>").is_err());
        assert!(Element::parse("<domain>").is_err());
        assert!(matches!(Element::parse(""), Err(TreeError::NoRoot)));
    }

    #[test]
    fn insert_after_follows_the_named_siblings() {
        let mut os =
            Element::parse("<os><type>hvm</type><boot dev='hd'/><bootmenu/></os>").unwrap();
        os.insert_after(
            &["type", "boot"],
            Element::new("boot").with_attr("dev", "cdrom"),
        );
        let names: Vec<_> = os.elements().map(|e| e.name.clone()).collect();
        assert_eq!(names, ["type", "boot", "boot", "bootmenu"]);
        assert_eq!(os.remove_children(|e| e.name == "boot"), 2);
    }
}
