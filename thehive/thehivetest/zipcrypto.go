package thehivetest

import (
	"archive/zip"
	"crypto/rand"
	"hash/crc32"
	"io"
	"time"
)

// writeEncryptedZip writes a ZIP archive holding one stored entry encrypted
// with the traditional PKWARE scheme ("ZipCrypto"), which is what TheHive
// uses for downloads of malware samples and what common unzip tools and
// Python's zipfile can open with the password.
func writeEncryptedZip(w io.Writer, name string, data, password []byte) error {
	crc := crc32.ChecksumIEEE(data)
	zw := zip.NewWriter(w)
	fh := &zip.FileHeader{
		Name:               safeName(name),
		Method:             zip.Store,
		Flags:              0x1, // encrypted
		CRC32:              crc,
		CompressedSize64:   uint64(len(data)) + 12,
		UncompressedSize64: uint64(len(data)),
		Modified:           time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	fw, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	var header [12]byte
	if _, err := rand.Read(header[:11]); err != nil {
		return err
	}
	header[11] = byte(crc >> 24) // lets readers check the password
	enc := newZipCipher(password)
	out := make([]byte, 0, len(data)+12)
	out = append(out, enc.encrypt(header[:])...)
	out = append(out, enc.encrypt(data)...)
	if _, err := fw.Write(out); err != nil {
		return err
	}
	return zw.Close()
}

// zipCipher is the key state of the PKWARE stream cipher.
type zipCipher struct{ k0, k1, k2 uint32 }

func newZipCipher(password []byte) *zipCipher {
	z := &zipCipher{k0: 0x12345678, k1: 0x23456789, k2: 0x34567890}
	for _, b := range password {
		z.update(b)
	}
	return z
}

func crcByte(crc uint32, b byte) uint32 {
	return (crc >> 8) ^ crc32.IEEETable[byte(crc)^b]
}

func (z *zipCipher) update(b byte) {
	z.k0 = crcByte(z.k0, b)
	z.k1 = (z.k1+(z.k0&0xff))*134775813 + 1
	z.k2 = crcByte(z.k2, byte(z.k1>>24))
}

func (z *zipCipher) keyByte() byte {
	t := uint16(z.k2 | 2)
	return byte((uint32(t) * uint32(t^1)) >> 8)
}

// encrypt returns the encryption of p and advances the keys.
func (z *zipCipher) encrypt(p []byte) []byte {
	out := make([]byte, len(p))
	for i, b := range p {
		out[i] = b ^ z.keyByte()
		z.update(b)
	}
	return out
}

// decrypt returns the decryption of c and advances the keys (used by tests
// to check archives).
func (z *zipCipher) decrypt(c []byte) []byte {
	out := make([]byte, len(c))
	for i, b := range c {
		p := b ^ z.keyByte()
		out[i] = p
		z.update(p)
	}
	return out
}
