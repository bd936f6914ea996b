package status

import "math"

// mod_status prints its floating-point numbers with APR's printf, not C's,
// and the two differ: APR's %g drops the zero before the point (".25",
// ".666667") and writes one-digit exponents ("1.5e+6"). Monitoring tools
// were written against that output, so the functions below reproduce
// APR's conversion (apr_snprintf.c: apr_cvt, apr_gcvt, conv_fp) step by
// step, including its rounding (half up on the first dropped digit).

// cvtDigits is APR's NDIG: the digit buffer size.
const cvtDigits = 80

// aprCvt converts arg to decimal digits: ndigits significant digits when
// eflag, else ndigits digits after the point. It returns the digits, the
// position of the decimal point relative to them, and the sign.
func aprCvt(arg float64, ndigits int, eflag bool) (digits []byte, decpt int, negative bool) {
	if ndigits >= cvtDigits-1 {
		ndigits = cvtDigits - 2
	}
	var buf [cvtDigits + 1]byte
	r2 := 0
	if arg < 0 {
		negative = true
		arg = -arg
	}
	fi, frac := math.Modf(arg)
	arg = frac
	p := 0
	switch {
	case fi != 0:
		// The integer part, last digit first, from the end of the buffer.
		p1 := cvtDigits
		for p1 > 0 && fi != 0 {
			var fj float64
			fi, fj = math.Modf(fi / 10)
			p1--
			buf[p1] = byte(int((fj+.03)*10)) + '0'
			r2++
		}
		for p1 < cvtDigits {
			buf[p] = buf[p1]
			p++
			p1++
		}
	case arg > 0:
		for arg*10 < 1 {
			arg *= 10
			r2--
		}
	}
	p1 := ndigits
	if !eflag {
		p1 += r2
	}
	if p1 < 0 {
		return nil, -ndigits, negative
	}
	decpt = r2
	for p <= p1 && p < cvtDigits {
		var fj float64
		fj, arg = math.Modf(arg * 10)
		buf[p] = byte(int(fj)) + '0'
		p++
	}
	if p1 >= cvtDigits {
		return cString(buf[:cvtDigits-1]), decpt, negative
	}
	// Round on the digit after the last one kept.
	p = p1
	buf[p1] += 5
	for buf[p1] > '9' {
		buf[p1] = '0'
		if p1 > 0 {
			p1--
			buf[p1]++
		} else {
			buf[p1] = '1'
			decpt++
			if !eflag {
				if p > 0 {
					buf[p] = '0'
				}
				p++
			}
		}
	}
	return cString(buf[:p]), decpt, negative
}

// cString is b up to its first NUL, as C would read it.
func cString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// aprG is APR's "%.<ndigit>g" (plain "%g" is ndigit 6).
func aprG(number float64, ndigit int) string {
	digits, decpt, negative := aprCvt(number, ndigit, true)
	at := func(i int) byte {
		if i < len(digits) {
			return digits[i]
		}
		return 0
	}
	out := make([]byte, 0, 24)
	if negative {
		out = append(out, '-')
	}
	for i := ndigit - 1; i > 0 && at(i) == '0'; i-- {
		ndigit--
	}
	if (decpt >= 0 && decpt-ndigit > 4) || decpt < -3 {
		// E-style: d.ddde+x, with as few exponent digits as needed.
		decpt--
		out = append(out, at(0), '.')
		for i := 1; i < ndigit; i++ {
			out = append(out, at(i))
		}
		out = append(out, 'e')
		if decpt < 0 {
			decpt = -decpt
			out = append(out, '-')
		} else {
			out = append(out, '+')
		}
		if decpt/100 > 0 {
			out = append(out, byte(decpt/100)+'0')
		}
		if decpt/10 > 0 {
			out = append(out, byte((decpt%100)/10)+'0')
		}
		out = append(out, byte(decpt%10)+'0')
	} else {
		if decpt <= 0 {
			if at(0) != '0' {
				out = append(out, '.')
			}
			for ; decpt < 0; decpt++ {
				out = append(out, '0')
			}
		}
		for i := 1; i <= ndigit; i++ {
			out = append(out, at(i-1))
			if i == decpt {
				out = append(out, '.')
			}
		}
		if ndigit < decpt {
			for ; ndigit < decpt; ndigit++ {
				out = append(out, '0')
			}
			out = append(out, '.')
		}
	}
	if out[len(out)-1] == '.' {
		out = out[:len(out)-1]
	}
	// A digit APR read past the end of its buffer is a NUL; drop them.
	return string(cString(out))
}

// aprF is APR's "%.<precision>f".
func aprF(number float64, precision int) string {
	digits, decpt, negative := aprCvt(number, precision, false)
	out := make([]byte, 0, 24)
	if negative {
		out = append(out, '-')
	}
	if decpt <= 0 {
		out = append(out, '0')
		if precision > 0 {
			out = append(out, '.')
			for ; decpt < 0; decpt++ {
				out = append(out, '0')
			}
		}
	} else {
		for ; decpt > 0 && len(digits) > 0; decpt-- {
			out = append(out, digits[0])
			digits = digits[1:]
		}
		if precision > 0 {
			out = append(out, '.')
		}
	}
	return string(append(out, digits...))
}

// float32Ratio is mod_status's "(float) a / (float) b": C float division,
// then promoted to double for printf.
func float32Ratio(a, b float64) float64 { return float64(float32(a) / float32(b)) }
