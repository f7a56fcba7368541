//! Arithmetic expressions in parameter files, such as `"pi - 2.35"` or `"296.15 / 3000"`.
//!
//! Grammar: numbers, `pi`, `e`, `+ - * /`, `^` (right-associative power), unary minus,
//! parentheses and the functions `sqrt`, `exp`, `ln`, `cos`, `sin`, `acos`. Evaluated in `f64`.

/// Evaluates `text`; the error says what was expected where.
pub fn eval(text: &str) -> Result<f64, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let v = p.sum()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected '{}' at position {}", &text[p.i..], p.i + 1));
    }
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("the value is not finite ({v})"))
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut v = self.product()?;
        loop {
            if self.eat(b'+') {
                v += self.product()?;
            } else if self.eat(b'-') {
                v -= self.product()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut v = self.unary()?;
        loop {
            if self.eat(b'*') {
                v *= self.unary()?;
            } else if self.eat(b'/') {
                v /= self.unary()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn unary(&mut self) -> Result<f64, String> {
        if self.eat(b'-') {
            return Ok(-self.unary()?);
        }
        if self.eat(b'+') {
            return self.unary();
        }
        let base = self.atom()?;
        if self.eat(b'^') {
            return Ok(base.powf(self.unary()?));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<f64, String> {
        self.ws();
        let start = self.i;
        if self.eat(b'(') {
            let v = self.sum()?;
            return if self.eat(b')') {
                Ok(v)
            } else {
                Err(format!("a ')' to close the '(' at position {}", start + 1))
            };
        }
        let c = *self.s.get(self.i).ok_or("a number, 'pi' or '(' but the expression ends")?;
        if c.is_ascii_digit() || c == b'.' {
            while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.') {
                self.i += 1;
            }
            // exponent: 1e-3
            if self.i < self.s.len() && (self.s[self.i] == b'e' || self.s[self.i] == b'E') {
                let save = self.i;
                self.i += 1;
                if self.i < self.s.len() && (self.s[self.i] == b'+' || self.s[self.i] == b'-') {
                    self.i += 1;
                }
                let digits = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                if self.i == digits {
                    self.i = save;
                }
            }
            let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
            return t.parse().map_err(|_| format!("a number, found '{t}'"));
        }
        if c.is_ascii_alphabetic() {
            while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
                self.i += 1;
            }
            let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
            let f: fn(f64) -> f64 = match name {
                "pi" | "PI" => return Ok(std::f64::consts::PI),
                "e" => return Ok(std::f64::consts::E),
                "sqrt" => f64::sqrt,
                "exp" => f64::exp,
                "ln" => f64::ln,
                "cos" => f64::cos,
                "sin" => f64::sin,
                "acos" => f64::acos,
                _ => return Err(format!("unknown name '{name}' (known: pi, e, sqrt, exp, ln, cos, sin, acos)")),
            };
            if !self.eat(b'(') {
                return Err(format!("'(' after '{name}'"));
            }
            let v = self.sum()?;
            if !self.eat(b')') {
                return Err(format!("')' closing '{name}('"));
            }
            return Ok(f(v));
        }
        Err(format!("a number, 'pi' or '(' at position {}, found '{}'", start + 1, c as char))
    }
}

#[cfg(test)]
mod tests {
    use super::eval;
    use std::f64::consts::PI;

    #[test]
    #[allow(clippy::float_cmp)] // the evaluator must give exactly the f64 arithmetic
    fn evaluates_parameter_expressions() {
        assert_eq!(eval("pi - 2.35").unwrap(), PI - 2.35);
        assert_eq!(eval("pi / 2").unwrap(), PI / 2.0);
        assert_eq!(eval("296.15 * 0.1 / 300.0").unwrap(), 296.15 * 0.1 / 300.0);
        assert_eq!(eval("-(1 + 2) * 3").unwrap(), -9.0);
        assert_eq!(eval("2^3^2").unwrap(), 512.0);
        assert_eq!(eval("1e-3 + sqrt(4)").unwrap(), 2.001);
    }

    #[test]
    fn reports_what_is_wrong() {
        assert!(eval("pi -").unwrap_err().contains("ends"));
        assert!(eval("tau").unwrap_err().contains("unknown name 'tau'"));
        assert!(eval("(1 + 2").unwrap_err().contains("')'"));
        assert!(eval("1 / 0").unwrap_err().contains("not finite"));
        assert!(eval("2 3").unwrap_err().contains("unexpected '3'"));
    }
}
