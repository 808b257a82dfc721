// A small JSON reader for the plugin configuration. It returns null and sets `error`
// instead of throwing; the configuration is untrusted input like any other.

export const J_NULL: i32 = 0;
export const J_BOOL: i32 = 1;
export const J_NUM: i32 = 2;
export const J_STR: i32 = 3;
export const J_ARR: i32 = 4;
export const J_OBJ: i32 = 5;

export class JValue {
  kind: i32 = J_NULL;
  b: bool = false;
  num: f64 = 0;
  str: string = "";
  items: Array<JValue> = new Array<JValue>();
  keys: Array<string> = new Array<string>();

  /** Member of an object, or null. */
  get(key: string): JValue | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }
}

export class JsonReader {
  private s: string;
  private i: i32 = 0;
  error: string = "";

  constructor(s: string) { this.s = s; }

  /** Parses one complete document; null with `error` set on any syntax error. */
  parse(): JValue | null {
    const v = this.value(0);
    if (v === null) return null;
    this.ws();
    if (this.i != this.s.length) return this.fail("trailing characters");
    return v;
  }

  private fail(msg: string): JValue | null {
    if (this.error.length == 0) this.error = msg + " at offset " + this.i.toString();
    return null;
  }

  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.i++;
      else break;
    }
  }

  private value(depth: i32): JValue | null {
    if (depth > 64) return this.fail("nesting too deep");
    this.ws();
    if (this.i >= this.s.length) return this.fail("unexpected end");
    const c = this.s.charCodeAt(this.i);
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const str = this.string();
      if (str === null) return null;
      const v = new JValue();
      v.kind = J_STR;
      v.str = str as string;
      return v;
    }
    if (this.s.startsWith("true", this.i)) { this.i += 4; const v = new JValue(); v.kind = J_BOOL; v.b = true; return v; }
    if (this.s.startsWith("false", this.i)) { this.i += 5; const v = new JValue(); v.kind = J_BOOL; return v; }
    if (this.s.startsWith("null", this.i)) { this.i += 4; return new JValue(); }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail("unexpected character");
  }

  private number(): JValue | null {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45) this.i++;
      else break;
    }
    const text = this.s.substring(start, this.i);
    const n = parseFloat(text);
    if (isNaN(n)) return this.fail("bad number");
    const v = new JValue();
    v.kind = J_NUM;
    v.num = n;
    return v;
  }

  private string(): string | null {
    this.i++; // opening quote
    let out = "";
    let runStart = this.i;
    while (true) {
      if (this.i >= this.s.length) { this.fail("unterminated string"); return null; }
      const c = this.s.charCodeAt(this.i);
      if (c == 0x22) {
        out += this.s.substring(runStart, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c == 0x5c) {
        out += this.s.substring(runStart, this.i);
        this.i++;
        if (this.i >= this.s.length) { this.fail("unterminated escape"); return null; }
        const e = this.s.charCodeAt(this.i);
        this.i++;
        if (e == 0x22) out += "\"";
        else if (e == 0x5c) out += "\\";
        else if (e == 0x2f) out += "/";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x75) {
          if (this.i + 4 > this.s.length) { this.fail("bad unicode escape"); return null; }
          const code = <i32>parseInt(this.s.substring(this.i, this.i + 4), 16);
          if (isNaN(<f64>code)) { this.fail("bad unicode escape"); return null; }
          out += String.fromCharCode(code);
          this.i += 4;
        } else { this.fail("bad escape"); return null; }
        runStart = this.i;
        continue;
      }
      this.i++;
    }
    return null;
  }

  private array(depth: i32): JValue | null {
    this.i++;
    const v = new JValue();
    v.kind = J_ARR;
    this.ws();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) == 0x5d) { this.i++; return v; }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item as JValue);
      this.ws();
      if (this.i >= this.s.length) return this.fail("unterminated array");
      const c = this.s.charCodeAt(this.i);
      this.i++;
      if (c == 0x5d) return v;
      if (c != 0x2c) return this.fail("expected ',' or ']'");
    }
    return null;
  }

  private object(depth: i32): JValue | null {
    this.i++;
    const v = new JValue();
    v.kind = J_OBJ;
    this.ws();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) == 0x7d) { this.i++; return v; }
    while (true) {
      this.ws();
      if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 0x22) return this.fail("expected a member name");
      const k = this.string();
      if (k === null) return null;
      this.ws();
      if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 0x3a) return this.fail("expected ':'");
      this.i++;
      const item = this.value(depth + 1);
      if (item === null) return null;
      if (v.get(k as string) !== null) return this.fail("duplicate member \"" + (k as string) + "\"");
      v.keys.push(k as string);
      v.items.push(item as JValue);
      this.ws();
      if (this.i >= this.s.length) return this.fail("unterminated object");
      const c = this.s.charCodeAt(this.i);
      this.i++;
      if (c == 0x7d) return v;
      if (c != 0x2c) return this.fail("expected ',' or '}'");
    }
    return null;
  }
}
