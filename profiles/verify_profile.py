"""Sanity-check FOGRA39-coated-newsletter-pdf.icc with Pillow's ImageCms.

Usage: python profiles/verify_profile.py [path/to/profile.icc]
Prints description, colour space / device class, and sRGB -> CMYK results
for black, white, pure red and 50 % grey (perceptual and relative intents).
"""
import os
import sys

from PIL import Image, ImageCms

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "FOGRA39-coated-newsletter-pdf.icc")
prof = ImageCms.getOpenProfile(path)
p = prof.profile
print("file:        ", path, os.path.getsize(path), "bytes")
print("description: ", ImageCms.getProfileDescription(prof).strip())
print("copyright:   ", ImageCms.getProfileCopyright(prof).strip())
print("colour space:", repr(p.xcolor_space), " class:", repr(p.device_class),
      " PCS:", repr(p.connection_space), " ICC version:", p.version)
assert p.xcolor_space.strip() == "CMYK" and p.device_class == "prtr"

srgb = ImageCms.createProfile("sRGB")
samples = {
    "black (0,0,0)": (0, 0, 0),
    "white (255,255,255)": (255, 255, 255),
    "pure red (255,0,0)": (255, 0, 0),
    "50% grey (128,128,128)": (128, 128, 128),
}
for intent_name, intent in [("perceptual", ImageCms.Intent.PERCEPTUAL),
                            ("relative colorimetric", ImageCms.Intent.RELATIVE_COLORIMETRIC)]:
    t = ImageCms.buildTransform(srgb, prof, "RGB", "CMYK", renderingIntent=intent)
    im = Image.new("RGB", (len(samples), 1))
    for i, rgb in enumerate(samples.values()):
        im.putpixel((i, 0), rgb)
    out = ImageCms.applyTransform(im, t)
    print(f"sRGB -> CMYK ({intent_name}):")
    for i, name in enumerate(samples):
        cmyk = out.getpixel((i, 0))
        pct = [v * 100 / 255 for v in cmyk]
        print(f"  {name:24s} 8-bit {str(cmyk):20s} C{pct[0]:5.1f} M{pct[1]:5.1f} "
              f"Y{pct[2]:5.1f} K{pct[3]:5.1f}  total ink {sum(pct):5.1f} %")
