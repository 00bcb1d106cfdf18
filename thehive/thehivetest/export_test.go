package thehivetest

// DecryptZipEntry decrypts the raw data of an entry written by
// writeEncryptedZip and drops its 12-byte encryption header.
func DecryptZipEntry(raw, password []byte) []byte {
	if len(raw) < 12 {
		return nil
	}
	return newZipCipher(password).decrypt(raw)[12:]
}
