//! A minimal reader for the few ONNX fields weight conversion needs: the graph's nodes (name,
//! op type, inputs, outputs, attributes) and its initializers (name, dims, data type, data).
//!
//! ONNX files are protobuf messages. Rather than a protobuf crate and the `onnx.proto` schema
//! (a code generator, a build script, a larger dependency tree), this decodes the wire format by
//! hand: varints and length-delimited fields, about a page of code. Fields we do not need are
//! skipped; tensor data is borrowed from the file's bytes, not copied.
//!
//! Field numbers are those of `onnx.proto3` (ONNX 1.x, stable since IR version 3).

use std::collections::HashMap;

/// ONNX `TensorProto.DataType` values we read.
pub(crate) const FLOAT: i32 = 1;
pub(crate) const UINT8: i32 = 2;
pub(crate) const INT8: i32 = 3;
pub(crate) const INT32: i32 = 6;
#[allow(dead_code)] // read only by tests so far
pub(crate) const INT64: i32 = 7;

/// `ModelProto`, reduced to its graph.
#[derive(Debug, Default)]
pub(crate) struct Model<'a> {
    pub graph: Graph<'a>,
}

/// `GraphProto`: nodes in topological order and the initializers (weights and constants).
#[derive(Debug, Default)]
pub(crate) struct Graph<'a> {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor<'a>>,
}

/// `NodeProto`.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Node {
    pub name: String,
    pub op_type: String,
    /// Value names; an empty name is an omitted optional input.
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<Attribute>,
}

/// `AttributeProto`, only its integer and float forms.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Attribute {
    pub name: String,
    pub i: Option<i64>,
    pub f: Option<f32>,
    pub ints: Vec<i64>,
}

/// `TensorProto`. The data sits in `raw_data` (little-endian) or in one of the typed fields.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Tensor<'a> {
    pub name: String,
    pub dims: Vec<i64>,
    pub data_type: i32,
    pub raw_data: Option<&'a [u8]>,
    pub float_data: Vec<f32>,
    /// Also holds INT8 and UINT8 values when they are not in `raw_data`.
    pub int32_data: Vec<i32>,
    pub int64_data: Vec<i64>,
    /// `data_location == EXTERNAL`: the data lives in another file, which we do not read.
    pub external: bool,
}

impl Model<'_> {
    /// Decodes an ONNX model from its bytes.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Model<'_>, String> {
        let mut model = Model::default();
        for field in Fields::new(bytes) {
            let (number, value) = field?;
            if number == 7 {
                model.graph = parse_graph(value.bytes("ModelProto.graph")?)?;
            }
        }
        Ok(model)
    }
}

impl<'a> Graph<'a> {
    /// Initializers by name.
    pub(crate) fn initializer_map(&self) -> HashMap<&str, &Tensor<'a>> {
        self.initializers
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect()
    }
}

impl Node {
    pub(crate) fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Tensor<'_> {
    /// The dims as sizes; fails on a negative dimension.
    pub(crate) fn shape(&self) -> Result<Vec<usize>, String> {
        self.dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("{}: negative dim {d}", self.name)))
            .collect()
    }

    /// The number of elements the dims promise.
    pub(crate) fn numel(&self) -> Result<usize, String> {
        self.shape()?
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| format!("{}: dims {:?} overflow", self.name, self.dims))
    }

    fn check_storage(&self) -> Result<(), String> {
        if self.external {
            return Err(format!("{}: data stored outside the model file", self.name));
        }
        Ok(())
    }

    /// A FLOAT tensor's values.
    pub(crate) fn to_f32(&self) -> Result<Vec<f32>, String> {
        self.check_storage()?;
        if self.data_type != FLOAT {
            return Err(format!(
                "{}: data type {} is not FLOAT",
                self.name, self.data_type
            ));
        }
        let values = match self.raw_data {
            Some(raw) => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            None => self.float_data.clone(),
        };
        self.expect_len(values)
    }

    /// An INT8, UINT8 or INT32 tensor's values, widened to i32.
    pub(crate) fn to_i32(&self) -> Result<Vec<i32>, String> {
        self.check_storage()?;
        let values: Vec<i32> = match (self.data_type, self.raw_data) {
            (INT8, Some(raw)) => raw.iter().map(|&b| i32::from(b as i8)).collect(),
            (UINT8, Some(raw)) => raw.iter().map(|&b| i32::from(b)).collect(),
            (INT32, Some(raw)) => raw
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            (INT8 | UINT8 | INT32, None) => self.int32_data.clone(),
            (other, _) => {
                return Err(format!(
                    "{}: data type {other} is not INT8, UINT8 or INT32",
                    self.name
                ))
            }
        };
        self.expect_len(values)
    }

    /// An INT64 tensor's values.
    #[allow(dead_code)] // read only by tests so far
    pub(crate) fn to_i64(&self) -> Result<Vec<i64>, String> {
        self.check_storage()?;
        if self.data_type != INT64 {
            return Err(format!(
                "{}: data type {} is not INT64",
                self.name, self.data_type
            ));
        }
        let values = match self.raw_data {
            Some(raw) => raw
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect(),
            None => self.int64_data.clone(),
        };
        self.expect_len(values)
    }

    fn expect_len<T>(&self, values: Vec<T>) -> Result<Vec<T>, String> {
        let expected = self.numel()?;
        if values.len() != expected {
            return Err(format!(
                "{}: {} values for dims {:?} ({expected} expected)",
                self.name,
                values.len(),
                self.dims
            ));
        }
        Ok(values)
    }
}

fn parse_graph(bytes: &[u8]) -> Result<Graph<'_>, String> {
    let mut graph = Graph::default();
    for field in Fields::new(bytes) {
        match field? {
            (1, value) => graph
                .nodes
                .push(parse_node(value.bytes("GraphProto.node")?)?),
            (5, value) => graph
                .initializers
                .push(parse_tensor(value.bytes("GraphProto.initializer")?)?),
            _ => {}
        }
    }
    Ok(graph)
}

fn parse_node(bytes: &[u8]) -> Result<Node, String> {
    let mut node = Node::default();
    for field in Fields::new(bytes) {
        match field? {
            (1, value) => node.inputs.push(value.string("NodeProto.input")?),
            (2, value) => node.outputs.push(value.string("NodeProto.output")?),
            (3, value) => node.name = value.string("NodeProto.name")?,
            (4, value) => node.op_type = value.string("NodeProto.op_type")?,
            (5, value) => node
                .attributes
                .push(parse_attribute(value.bytes("NodeProto.attribute")?)?),
            _ => {}
        }
    }
    Ok(node)
}

fn parse_attribute(bytes: &[u8]) -> Result<Attribute, String> {
    let mut attribute = Attribute::default();
    for field in Fields::new(bytes) {
        match field? {
            (1, value) => attribute.name = value.string("AttributeProto.name")?,
            (2, Value::Fixed32(bits)) => attribute.f = Some(f32::from_bits(bits)),
            (3, Value::Varint(v)) => attribute.i = Some(v as i64),
            (8, value) => value.varints_into(&mut attribute.ints, "AttributeProto.ints")?,
            _ => {}
        }
    }
    Ok(attribute)
}

fn parse_tensor(bytes: &[u8]) -> Result<Tensor<'_>, String> {
    let mut tensor = Tensor::default();
    for field in Fields::new(bytes) {
        match field? {
            (1, value) => value.varints_into(&mut tensor.dims, "TensorProto.dims")?,
            (2, Value::Varint(v)) => tensor.data_type = v as i32,
            (4, value) => match value {
                Value::Fixed32(bits) => tensor.float_data.push(f32::from_bits(bits)),
                Value::Bytes(packed) => {
                    if packed.len() % 4 != 0 {
                        return Err("TensorProto.float_data: truncated".into());
                    }
                    tensor.float_data.extend(
                        packed
                            .chunks_exact(4)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    );
                }
                _ => return Err("TensorProto.float_data: unexpected wire type".into()),
            },
            (5, value) => {
                let mut wide = Vec::new();
                value.varints_into(&mut wide, "TensorProto.int32_data")?;
                // int32 values are sign-extended to 64 bits on the wire.
                tensor.int32_data.extend(wide.into_iter().map(|v| v as i32));
            }
            (7, value) => value.varints_into(&mut tensor.int64_data, "TensorProto.int64_data")?,
            (8, value) => tensor.name = value.string("TensorProto.name")?,
            (9, value) => tensor.raw_data = Some(value.bytes("TensorProto.raw_data")?),
            (14, Value::Varint(location)) => tensor.external = location == 1,
            _ => {}
        }
    }
    Ok(tensor)
}

/// One field's value, by wire type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    fn bytes(self, what: &str) -> Result<&'a [u8], String> {
        match self {
            Value::Bytes(b) => Ok(b),
            other => Err(format!("{what}: expected bytes, found {other:?}")),
        }
    }

    fn string(self, what: &str) -> Result<String, String> {
        String::from_utf8(self.bytes(what)?.to_vec()).map_err(|_| format!("{what}: not UTF-8"))
    }

    /// A repeated varint field: one value, or a packed run of them.
    fn varints_into(self, out: &mut Vec<i64>, what: &str) -> Result<(), String> {
        match self {
            Value::Varint(v) => out.push(v as i64),
            Value::Bytes(mut packed) => {
                while !packed.is_empty() {
                    out.push(read_varint(&mut packed).map_err(|e| format!("{what}: {e}"))? as i64);
                }
            }
            other => return Err(format!("{what}: expected varints, found {other:?}")),
        }
        Ok(())
    }
}

/// The (field number, value) pairs of one message.
struct Fields<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            failed: false,
        }
    }

    fn next_field(&mut self) -> Result<(u64, Value<'a>), String> {
        let key = read_varint(&mut self.rest)?;
        let number = key >> 3;
        let value = match key & 7 {
            0 => Value::Varint(read_varint(&mut self.rest)?),
            1 => Value::Fixed64(u64::from_le_bytes(
                take(&mut self.rest, 8)?.try_into().unwrap(),
            )),
            2 => {
                let len = read_varint(&mut self.rest)?;
                let len = usize::try_from(len).map_err(|_| "length overflows".to_owned())?;
                Value::Bytes(take(&mut self.rest, len)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(
                take(&mut self.rest, 4)?.try_into().unwrap(),
            )),
            other => return Err(format!("field {number}: unsupported wire type {other}")),
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let field = self.next_field();
        self.failed = field.is_err();
        Some(field.map_err(|e| format!("not a valid ONNX protobuf: {e}")))
    }
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if rest.len() < n {
        return Err(format!("truncated: {n} bytes wanted, {} left", rest.len()));
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

fn read_varint(rest: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, tail) = rest
            .split_first()
            .ok_or_else(|| "truncated varint".to_owned())?;
        *rest = tail;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint longer than 10 bytes".into())
}

#[cfg(test)]
pub(crate) mod testing {
    //! A tiny protobuf writer, to build ONNX bytes by hand in tests.

    pub(crate) fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    pub(crate) fn field_varint(number: u64, v: u64, out: &mut Vec<u8>) {
        varint(number << 3, out);
        varint(v, out);
    }

    pub(crate) fn field_bytes(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint((number << 3) | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    /// A `TensorProto` with `raw_data`.
    pub(crate) fn tensor(name: &str, dims: &[i64], data_type: i32, raw: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        let mut packed = Vec::new();
        for &d in dims {
            varint(d as u64, &mut packed);
        }
        field_bytes(1, &packed, &mut t);
        field_varint(2, data_type as u64, &mut t);
        field_bytes(8, name.as_bytes(), &mut t);
        field_bytes(9, raw, &mut t);
        t
    }

    /// A `NodeProto`.
    pub(crate) fn node(name: &str, op_type: &str, inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
        let mut n = Vec::new();
        for i in inputs {
            field_bytes(1, i.as_bytes(), &mut n);
        }
        for o in outputs {
            field_bytes(2, o.as_bytes(), &mut n);
        }
        field_bytes(3, name.as_bytes(), &mut n);
        field_bytes(4, op_type.as_bytes(), &mut n);
        n
    }

    /// A `ModelProto` holding a graph of these nodes and initializers.
    pub(crate) fn model(nodes: &[Vec<u8>], initializers: &[Vec<u8>]) -> Vec<u8> {
        let mut g = Vec::new();
        for n in nodes {
            field_bytes(1, n, &mut g);
        }
        field_bytes(2, b"graph", &mut g);
        for t in initializers {
            field_bytes(5, t, &mut g);
        }
        let mut m = Vec::new();
        field_varint(1, 8, &mut m); // ir_version
        field_bytes(2, b"test", &mut m); // producer_name
        field_bytes(7, &g, &mut m);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn varints_decode_as_protobuf_says() {
        for (bytes, value) in [
            (vec![0x00], 0u64),
            (vec![0x01], 1),
            (vec![0x96, 0x01], 150),
            (vec![0xac, 0x02], 300),
            (vec![0xff, 0xff, 0xff, 0xff, 0x0f], u32::MAX as u64),
            (
                vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                u64::MAX,
            ),
        ] {
            let mut rest = bytes.as_slice();
            assert_eq!(read_varint(&mut rest).unwrap(), value, "{bytes:x?}");
            assert!(rest.is_empty());
            let mut written = Vec::new();
            varint(value, &mut written);
            assert_eq!(written, bytes);
        }
        assert!(read_varint(&mut [0x80u8, 0x80].as_slice()).is_err());
        assert!(read_varint(&mut [0xffu8; 11].as_slice()).is_err());
    }

    #[test]
    fn a_hand_made_model_reads_back() {
        let weights: Vec<u8> = [1.5f32, -2.0, 0.25, 8.0, 0.0, -0.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut matmul = node("/fc/MatMul", "MatMul", &["x", "w"], &["y"]);
        // An attribute with an int, a float and packed ints.
        let mut attr = Vec::new();
        field_bytes(1, b"perm", &mut attr);
        field_varint(3, 7, &mut attr);
        varint((2 << 3) | 5, &mut attr);
        attr.extend_from_slice(&0.5f32.to_le_bytes());
        let mut ints = Vec::new();
        for v in [0u64, 2, 1] {
            varint(v, &mut ints);
        }
        field_bytes(8, &ints, &mut attr);
        field_bytes(5, &attr, &mut matmul);
        // An unknown field (domain, 7) and a fixed64 field must be skipped.
        field_bytes(7, b"com.example", &mut matmul);
        varint((99 << 3) | 1, &mut matmul);
        matmul.extend_from_slice(&[0; 8]);

        let quantized = tensor("w_q", &[2, 2], INT8, &[0x80, 0xff, 0x00, 0x7f]);
        let unsigned = tensor("w_u", &[3], UINT8, &[0, 128, 255]);
        let bytes = model(
            &[matmul, node("", "Relu", &["y", ""], &["z"])],
            &[tensor("w", &[2, 3], FLOAT, &weights), quantized, unsigned],
        );

        let model = Model::parse(&bytes).unwrap();
        let graph = &model.graph;
        assert_eq!(graph.nodes.len(), 2);
        let n = &graph.nodes[0];
        assert_eq!(
            (n.name.as_str(), n.op_type.as_str()),
            ("/fc/MatMul", "MatMul")
        );
        assert_eq!(n.inputs, ["x", "w"]);
        assert_eq!(n.outputs, ["y"]);
        let perm = n.attribute("perm").unwrap();
        assert_eq!(
            (perm.i, perm.f, perm.ints.as_slice()),
            (Some(7), Some(0.5), [0, 2, 1].as_slice())
        );
        assert_eq!(graph.nodes[1].inputs, ["y", ""]);

        let inits = graph.initializer_map();
        let w = inits["w"];
        assert_eq!(w.shape().unwrap(), [2, 3]);
        assert_eq!(w.to_f32().unwrap(), [1.5, -2.0, 0.25, 8.0, 0.0, -0.5]);
        assert!(w.to_i32().is_err());
        assert_eq!(inits["w_q"].to_i32().unwrap(), [-128, -1, 0, 127]);
        assert_eq!(inits["w_u"].to_i32().unwrap(), [0, 128, 255]);
    }

    #[test]
    fn typed_fields_are_read_when_there_is_no_raw_data() {
        let mut t = Vec::new();
        field_varint(1, 2, &mut t); // dims, unpacked
        field_varint(1, 2, &mut t);
        field_varint(2, INT8 as u64, &mut t);
        let mut packed = Vec::new();
        for v in [-3i64, 5, -128, 127] {
            varint(v as u64, &mut packed); // sign-extended, as protobuf writes int32
        }
        field_bytes(5, &packed, &mut t);
        field_bytes(8, b"q", &mut t);
        let mut f = Vec::new();
        field_varint(1, 2, &mut f);
        field_varint(2, FLOAT as u64, &mut f);
        let floats: Vec<u8> = [0.5f32, -1.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        field_bytes(4, &floats, &mut f);
        field_bytes(8, b"f", &mut f);
        let mut l = Vec::new();
        field_varint(2, INT64 as u64, &mut l);
        field_varint(7, (-7i64) as u64, &mut l);
        field_bytes(8, b"scalar", &mut l);

        let bytes = model(&[], &[t, f, l]);
        let model = Model::parse(&bytes).unwrap();
        let inits = model.graph.initializer_map();
        assert_eq!(inits["q"].to_i32().unwrap(), [-3, 5, -128, 127]);
        assert_eq!(inits["f"].to_f32().unwrap(), [0.5, -1.0]);
        // No dims: a scalar.
        assert_eq!(inits["scalar"].to_i64().unwrap(), [-7]);
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let good = model(
            &[node("n", "Relu", &["a"], &["b"])],
            &[tensor("w", &[2], FLOAT, &[0; 8])],
        );
        for cut in 1..good.len() {
            // Every prefix either parses (a cut between fields) or fails cleanly.
            let _ = Model::parse(&good[..cut]);
        }
        assert!(Model::parse(&good[..good.len() - 3]).is_err());
        // Wrong element count for the dims.
        let short = model(&[], &[tensor("w", &[3], FLOAT, &[0; 8])]);
        let model = Model::parse(&short).unwrap();
        let err = model.graph.initializers[0].to_f32().unwrap_err();
        assert!(
            err.contains("2 values") && err.contains("3 expected"),
            "{err}"
        );
        // Wire type 3 (groups) is not supported.
        assert!(Model::parse(&[0x0b]).is_err());
    }
}
