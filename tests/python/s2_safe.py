#!/usr/bin/python3
"""Write a minimal synthetic Sentinel-2 SAFE product (SAFE_COMPACT layout)
that GDAL's SENTINEL2 driver (checked against GDAL 3.6.2) opens.

Usage:
    /usr/bin/python3 make_safe.py OUTDIR L2A|L1C

Creates OUTDIR/<PRODUCT_URI>/ with:
  L2A: MTD_MSIL2A.xml
       GRANULE/L2A_T36NXF_A023838_20220105T083056/MTD_TL.xml
       GRANULE/.../IMG_DATA/R10m/T36NXF_20220105T082331_{B02,B03,B04,B08,TCI}_10m.jp2
       GRANULE/.../IMG_DATA/R20m/T36NXF_20220105T082331_{B05,B06,B07,B8A,B11,B12,AOT,WVP,SCL}_20m.jp2
       GRANULE/.../IMG_DATA/R60m/T36NXF_20220105T082331_{B01,B09,AOT,WVP,SCL}_60m.jp2
       GRANULE/.../QI_DATA/MSK_{CLD,SNW}PRB_{20,60}m.jp2
  L1C: MTD_MSIL1C.xml
       GRANULE/L1C_T36NXF_A023838_20220105T083056/MTD_TL.xml
       GRANULE/.../IMG_DATA/T36NXF_20220105T082331_{B01..B12,B8A,TCI}.jp2

This is exactly the set of files that GDAL 3.6's SENTINEL2 driver looks for
in a SAFE_COMPACT product (it does NOT read the IMAGE_FILE list to decide which
bands exist, it hard-codes them), so no "Tile ... not found" warnings appear.

Pixel values (uint16, or uint8 for SCL/CLD/SNW and the 3-band TCI) follow
expected_value() below.
All JP2 files are written losslessly with GDAL's JP2OpenJPEG driver
(QUALITY=100, REVERSIBLE=YES) and carry GeoJP2/GMLJP2 georeferencing
(EPSG:32636).

The module can also be imported: make_product(outdir, level) returns the path
of the product MTD XML; expected_value()/expected_array() give the formula.
"""

import os
import sys

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

# --------------------------------------------------------------------------
# Product constants
# --------------------------------------------------------------------------
SPACECRAFT = "S2A"
SENSING = "20220105T082331"          # datatake sensing start (in PRODUCT_URI)
SENSING_ISO = "2022-01-05T08:23:31.024Z"
GEN_L2A = "20220105T103011"          # product discriminator / generation time
GEN_L1C = "20220105T095241"
TILE = "T36NXF"
REL_ORBIT = "R121"
ABS_ORBIT = "A023838"
DS_SENSING = "20220105T083056"       # datastrip sensing time used in granule dir
BASELINE = "04.00"
EPSG = 32636
ULX = 600000.0
ULY = 100020.0
SIZES = {10: 60, 20: 30, 60: 10}     # resolution -> pixels (square)
BOA_ADD_OFFSET = -1000
QUANTIFICATION = 10000

# ESA band_id index (used in Spectral_Information / *_ADD_OFFSET band_id)
BAND_IDS = {"B01": 0, "B02": 1, "B03": 2, "B04": 3, "B05": 4, "B06": 5,
            "B07": 6, "B08": 7, "B8A": 8, "B09": 9, "B10": 10, "B11": 11,
            "B12": 12}
NATIVE_RES = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20,
              "B06": 20, "B07": 20, "B08": 10, "B8A": 20, "B09": 60,
              "B10": 60, "B11": 20, "B12": 20}
# Non-spectral L2A layers: name -> (resolutions, dtype, subdir)
L2A_EXTRA = {
    "AOT": ((20, 60), gdal.GDT_UInt16, "IMG_DATA"),
    "WVP": ((20, 60), gdal.GDT_UInt16, "IMG_DATA"),
    "SCL": ((20, 60), gdal.GDT_Byte, "IMG_DATA"),
    "CLD": ((20, 60), gdal.GDT_Byte, "QI_DATA"),
    "SNW": ((20, 60), gdal.GDT_Byte, "QI_DATA"),
}
SOLAR_IRR = [1884.69, 1959.72, 1823.24, 1512.06, 1424.64, 1287.61, 1162.08,
             1041.63, 955.32, 812.92, 367.15, 245.59, 85.25]
SCL_CLASSES = ["NODATA", "SATURATED_DEFECTIVE", "DARK_FEATURE_SHADOW",
               "CLOUD_SHADOW", "VEGETATION", "NOT_VEGETATED", "WATER",
               "UNCLASSIFIED", "CLOUD_MEDIUM_PROBA", "CLOUD_HIGH_PROBA",
               "THIN_CIRRUS", "SNOW_ICE"]


def product_uri(level):
    if level == "L2A":
        return "%s_MSIL2A_%s_N%s_%s_%s_%s.SAFE" % (
            SPACECRAFT, SENSING, BASELINE.replace(".", ""), REL_ORBIT, TILE,
            GEN_L2A)
    return "%s_MSIL1C_%s_N%s_%s_%s_%s.SAFE" % (
        SPACECRAFT, SENSING, BASELINE.replace(".", ""), REL_ORBIT, TILE,
        GEN_L1C)


def granule_dir(level):
    return "%s_%s_%s_%s" % (level, TILE, ABS_ORBIT, DS_SENSING)


def granule_identifier(level):
    gen = GEN_L2A if level == "L2A" else GEN_L1C
    return "%s_OPER_MSI_%s_TL_VGS1_%s_%s_%s_N%s" % (
        SPACECRAFT, level, gen, ABS_ORBIT, TILE, BASELINE)


def datastrip_identifier(level):
    gen = GEN_L2A if level == "L2A" else GEN_L1C
    return "%s_OPER_MSI_%s_DS_VGS1_%s_S%s_N%s" % (
        SPACECRAFT, level, gen, DS_SENSING, BASELINE)


# --------------------------------------------------------------------------
# Pixel value formula
# --------------------------------------------------------------------------
def expected_value(name, res, row, col):
    """DN of layer `name` ('B02', 'B8A', 'SCL', 'AOT', ...) at resolution
    `res` (10/20/60) for pixel (row, col) of that resolution's grid."""
    n = SIZES[res]
    if name in BAND_IDS:
        # 1 + 4000*band_id + linear pixel index: never 0 (NODATA) nor 65535
        return 1 + 4000 * BAND_IDS[name] + row * n + col
    if name.startswith("TCI"):    # 'TCI1','TCI2','TCI3' = R,G,B (uint8)
        k = int(name[3])
        return (row + 2 * col + 50 * k) % 256
    if name == "AOT":
        return 100 + row * n + col
    if name == "WVP":
        return 2000 + row * n + col
    if name == "SCL":
        return (row + col) % 12
    if name == "CLD":
        return (row * n + col) % 101
    if name == "SNW":
        return (row + 2 * col) % 101
    raise ValueError(name)


def expected_array(name, res):
    n = SIZES[res]
    if name == "TCI":
        return np.stack([expected_array("TCI%d" % k, res) for k in (1, 2, 3)])
    r, c = np.mgrid[0:n, 0:n]
    v = np.vectorize(lambda rr, cc: expected_value(name, res, rr, cc))(r, c)
    dtype = np.uint8 if name[:3] in ("SCL", "CLD", "SNW", "TCI") \
        else np.uint16
    return v.astype(dtype)


# --------------------------------------------------------------------------
# JP2 writing
# --------------------------------------------------------------------------
_JP2 = None


def _jp2_driver():
    global _JP2
    if _JP2 is None:
        _JP2 = gdal.GetDriverByName("JP2OpenJPEG")
        if _JP2 is None or "DCAP_CREATECOPY" not in (_JP2.GetMetadata() or {}):
            raise RuntimeError("GDAL JP2OpenJPEG driver with write support "
                               "is required")
    return _JP2


def write_jp2(path, arr, res):
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    nb, n = arr.shape[0], arr.shape[1]
    dt = gdal.GDT_Byte if arr.dtype == np.uint8 else gdal.GDT_UInt16
    mem = gdal.GetDriverByName("MEM").Create("", n, n, nb, dt)
    mem.SetGeoTransform([ULX, res, 0, ULY, 0, -res])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    mem.SetProjection(srs.ExportToWkt())
    for i in range(nb):
        mem.GetRasterBand(i + 1).WriteArray(arr[i])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    out = _jp2_driver().CreateCopy(path, mem, strict=1,
                                   options=["QUALITY=100", "REVERSIBLE=YES",
                                            "YCC=NO"])
    out = None
    mem = None
    aux = path + ".aux.xml"
    if os.path.exists(aux):      # keep the product clean
        os.remove(aux)


# --------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------
def footprint_poslist():
    """EXT_POS_LIST (lat lon pairs, closed ring) of the 10 m extent."""
    src = osr.SpatialReference()
    src.ImportFromEPSG(EPSG)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    dst.SetAxisMappingStrategy(osr.OAMS_AUTHORITY_COMPLIANT)  # lat, lon
    ct = osr.CoordinateTransformation(src, dst)
    ext = SIZES[10] * 10.0
    pts = [(ULX, ULY), (ULX + ext, ULY), (ULX + ext, ULY - ext),
           (ULX, ULY - ext), (ULX, ULY)]
    out = []
    for x, y in pts:
        lat, lon, _ = ct.TransformPoint(x, y)
        out.append("%.9f %.9f" % (lat, lon))
    return " ".join(out) + " "


def image_file_list(level):
    g = "GRANULE/" + granule_dir(level)
    pre = "%s_%s" % (TILE, SENSING)
    files = []
    if level == "L1C":
        for b in ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08",
                  "B8A", "B09", "B10", "B11", "B12", "TCI"]:  # B01 first!
            files.append("%s/IMG_DATA/%s_%s" % (g, pre, b))
        return files
    # IMPORTANT: the FIRST IMAGE_FILE must be IMG_DATA/Rxxm/<name> (GDAL
    # derives the granule folder from it by stripping 2 path levels).
    for res in (10, 20, 60):
        names = [b for b in sorted(BAND_IDS, key=BAND_IDS.get)
                 if b != "B10" and NATIVE_RES[b] == res]
        if res == 10:
            names.append("TCI")
        names += [e for e, (rs, _, sub) in L2A_EXTRA.items()
                  if res in rs and sub == "IMG_DATA"]
        for nm in names:
            files.append("%s/IMG_DATA/R%02dm/%s_%s_%02dm" % (g, res, pre, nm,
                                                            res))
    return files


def product_xml(level):
    l2a = level == "L2A"
    root = "Level-2A_User_Product" if l2a else "Level-1C_User_Product"
    xsd = "User_Product_Level-2A.xsd" if l2a else "User_Product_Level-1C.xsd"
    gen = GEN_L2A if l2a else GEN_L1C
    gen_iso = "%s-%s-%sT%s:%s:%s.000000Z" % (gen[0:4], gen[4:6], gen[6:8],
                                             gen[9:11], gen[11:13], gen[13:15])
    img = "\n".join("          <IMAGE_FILE>%s</IMAGE_FILE>" % f
                    for f in image_file_list(level))
    if l2a:
        radio = """      <QUANTIFICATION_VALUES_LIST>
        <BOA_QUANTIFICATION_VALUE unit="none">%d</BOA_QUANTIFICATION_VALUE>
        <AOT_QUANTIFICATION_VALUE unit="none">1000.0</AOT_QUANTIFICATION_VALUE>
        <WVP_QUANTIFICATION_VALUE unit="cm">1000.0</WVP_QUANTIFICATION_VALUE>
      </QUANTIFICATION_VALUES_LIST>
      <BOA_ADD_OFFSET_VALUES_LIST>
%s
      </BOA_ADD_OFFSET_VALUES_LIST>""" % (QUANTIFICATION, "\n".join(
            '        <BOA_ADD_OFFSET band_id="%d">%d</BOA_ADD_OFFSET>'
            % (i, BOA_ADD_OFFSET) for i in range(13)))
    else:
        radio = """      <QUANTIFICATION_VALUE unit="none">%d</QUANTIFICATION_VALUE>
      <Radiometric_Offset_List>
%s
      </Radiometric_Offset_List>""" % (QUANTIFICATION, "\n".join(
            '        <RADIO_ADD_OFFSET band_id="%d">%d</RADIO_ADD_OFFSET>'
            % (i, BOA_ADD_OFFSET) for i in range(13)))
    irr = "\n".join(
        '          <SOLAR_IRRADIANCE bandId="%d" unit="W/m\u00b2/\u00b5m">'
        '%s</SOLAR_IRRADIANCE>' % (i, v) for i, v in enumerate(SOLAR_IRR))
    spec = "\n".join(
        '        <Spectral_Information bandId="%d" physicalBand="%s">'
        '<RESOLUTION>%d</RESOLUTION></Spectral_Information>'
        % (i, ("B%d" % int(b[1:])) if b != "B8A" else "B8A", NATIVE_RES[b])
        for b, i in sorted(BAND_IDS.items(), key=lambda kv: kv[1]))
    scl = ""
    if l2a:
        scl = "      <Scene_Classification_List>\n%s\n" \
              "      </Scene_Classification_List>" % "\n".join(
                  "        <Scene_Classification_ID>"
                  "<SCENE_CLASSIFICATION_TEXT>SC_%s</SCENE_CLASSIFICATION_TEXT>"
                  "<SCENE_CLASSIFICATION_INDEX>%d</SCENE_CLASSIFICATION_INDEX>"
                  "</Scene_Classification_ID>" % (t, i)
                  for i, t in enumerate(SCL_CLASSES))
    return """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:{root} xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/{xsd}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://psd-14.sentinel2.eo.esa.int/PSD/{xsd}">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>{sens}</PRODUCT_START_TIME>
      <PRODUCT_STOP_TIME>{sens}</PRODUCT_STOP_TIME>
      <PRODUCT_URI>{uri}</PRODUCT_URI>
      <PROCESSING_LEVEL>Level-{lvl}</PROCESSING_LEVEL>
      <PRODUCT_TYPE>S2MSI{lvl}</PRODUCT_TYPE>
      <PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>
      <GENERATION_TIME>{gen_iso}</GENERATION_TIME>
      <PREVIEW_IMAGE_URL>Not applicable</PREVIEW_IMAGE_URL>
      <PREVIEW_GEO_INFO>Not applicable</PREVIEW_GEO_INFO>
      <Datatake datatakeIdentifier="G{sc}_{sensing}_{absorb}_N{baseline}">
        <SPACECRAFT_NAME>Sentinel-2A</SPACECRAFT_NAME>
        <DATATAKE_TYPE>INS-NOBS</DATATAKE_TYPE>
        <DATATAKE_SENSING_START>{sens}</DATATAKE_SENSING_START>
        <SENSING_ORBIT_NUMBER>{relorb}</SENSING_ORBIT_NUMBER>
        <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION>
      </Datatake>
      <Query_Options completeSingleTile="true">
        <PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT>
      </Query_Options>
      <Product_Organisation>
        <Granule_List>
          <Granule datastripIdentifier="{dsid}" granuleIdentifier="{gid}" imageFormat="JPEG2000">
{img}
          </Granule>
        </Granule_List>
      </Product_Organisation>
    </Product_Info>
    <Product_Image_Characteristics>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX>
      </Special_Values>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX>
      </Special_Values>
      <Image_Display_Order>
        <RED_CHANNEL>3</RED_CHANNEL>
        <GREEN_CHANNEL>2</GREEN_CHANNEL>
        <BLUE_CHANNEL>1</BLUE_CHANNEL>
      </Image_Display_Order>
{radio}
      <Reflectance_Conversion>
        <U>1.03411</U>
        <Solar_Irradiance_List>
{irr}
        </Solar_Irradiance_List>
      </Reflectance_Conversion>
      <Spectral_Information_List>
{spec}
      </Spectral_Information_List>
{scl}
    </Product_Image_Characteristics>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Product_Footprint>
      <Product_Footprint>
        <Global_Footprint>
          <EXT_POS_LIST>{poslist}</EXT_POS_LIST>
        </Global_Footprint>
      </Product_Footprint>
      <RASTER_CS_TYPE>POINT</RASTER_CS_TYPE>
      <PIXEL_ORIGIN>1</PIXEL_ORIGIN>
    </Product_Footprint>
    <Coordinate_Reference_System>
      <GEO_TABLES version="1">EPSG</GEO_TABLES>
      <HORIZONTAL_CS_TYPE>GEOGRAPHIC</HORIZONTAL_CS_TYPE>
    </Coordinate_Reference_System>
  </n1:Geometric_Info>
  <n1:Quality_Indicators_Info>
    <Cloud_Coverage_Assessment>12.5</Cloud_Coverage_Assessment>
  </n1:Quality_Indicators_Info>
</n1:{root}>
""".format(root=root, xsd=xsd, sens=SENSING_ISO, uri=product_uri(level),
           lvl=level[1:], baseline=BASELINE, gen_iso=gen_iso, sc=SPACECRAFT,
           sensing=SENSING, absorb=ABS_ORBIT[1:], relorb=int(REL_ORBIT[1:]),
           dsid=datastrip_identifier(level), gid=granule_identifier(level),
           img=img, radio=radio, irr=irr, spec=spec, scl=scl,
           poslist=footprint_poslist())


def tile_xml(level):
    root = "Level-%s_Tile_ID" % level[1:]
    xsd = "S2_PDI_Level-%s_Tile_Metadata.xsd" % level[1:]
    sizes = "\n".join(
        '      <Size resolution="%d">\n        <NROWS>%d</NROWS>\n'
        '        <NCOLS>%d</NCOLS>\n      </Size>' % (r, n, n)
        for r, n in sorted(SIZES.items()))
    geopos = "\n".join(
        '      <Geoposition resolution="%d">\n        <ULX>%d</ULX>\n'
        '        <ULY>%d</ULY>\n        <XDIM>%d</XDIM>\n'
        '        <YDIM>%d</YDIM>\n      </Geoposition>' % (r, ULX, ULY, r, -r)
        for r in sorted(SIZES))
    return """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:{root} xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/{xsd}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://psd-14.sentinel2.eo.esa.int/PSD/{xsd}">
  <n1:General_Info>
    <TILE_ID metadataLevel="Brief">{gid}</TILE_ID>
    <DATASTRIP_ID metadataLevel="Standard">{dsid}</DATASTRIP_ID>
    <SENSING_TIME metadataLevel="Standard">{sens}</SENSING_TIME>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Tile_Geocoding metadataLevel="Brief">
      <HORIZONTAL_CS_NAME>WGS84 / UTM zone 36N</HORIZONTAL_CS_NAME>
      <HORIZONTAL_CS_CODE>EPSG:{epsg}</HORIZONTAL_CS_CODE>
{sizes}
{geopos}
    </Tile_Geocoding>
  </n1:Geometric_Info>
</n1:{root}>
""".format(root=root, xsd=xsd, gid=granule_identifier(level),
           dsid=datastrip_identifier(level), sens=SENSING_ISO, epsg=EPSG,
           sizes=sizes, geopos=geopos)


# --------------------------------------------------------------------------
# Product
# --------------------------------------------------------------------------
def layer_paths(level):
    """List of (name, res, relative path) of every raster written."""
    g = "GRANULE/" + granule_dir(level)
    pre = "%s_%s" % (TILE, SENSING)
    out = []
    if level == "L1C":
        for b in BAND_IDS:
            out.append((b, NATIVE_RES[b], "%s/IMG_DATA/%s_%s.jp2" % (g, pre, b)))
        out.append(("TCI", 10, "%s/IMG_DATA/%s_TCI.jp2" % (g, pre)))
        return out
    out.append(("TCI", 10, "%s/IMG_DATA/R10m/%s_TCI_10m.jp2" % (g, pre)))
    for b in BAND_IDS:
        if b == "B10":
            continue   # no B10 in L2A
        r = NATIVE_RES[b]
        out.append((b, r, "%s/IMG_DATA/R%02dm/%s_%s_%02dm.jp2"
                    % (g, r, pre, b, r)))
    for nm, (rs, _, sub) in L2A_EXTRA.items():
        for r in rs:
            if sub == "IMG_DATA":
                p = "%s/IMG_DATA/R%02dm/%s_%s_%02dm.jp2" % (g, r, pre, nm, r)
            else:   # QI_DATA/MSK_CLDPRB_20m.jp2
                p = "%s/QI_DATA/MSK_%sPRB_%02dm.jp2" % (g, nm, r)
            out.append((nm, r, p))
    return out


def make_product(outdir, level):
    level = level.upper()
    if level not in ("L2A", "L1C"):
        raise ValueError("level must be L2A or L1C")
    safe = os.path.join(outdir, product_uri(level))
    os.makedirs(safe, exist_ok=True)
    gdir = os.path.join(safe, "GRANULE", granule_dir(level))
    os.makedirs(gdir, exist_ok=True)
    mtd = os.path.join(safe, "MTD_MSI%s.xml" % level)
    with open(mtd, "w", encoding="utf-8") as f:
        f.write(product_xml(level))
    with open(os.path.join(gdir, "MTD_TL.xml"), "w", encoding="utf-8") as f:
        f.write(tile_xml(level))
    for name, res, rel in layer_paths(level):
        write_jp2(os.path.join(safe, rel), expected_array(name, res), res)
    return mtd


def main(argv):
    if len(argv) != 3 or argv[2].upper() not in ("L2A", "L1C"):
        sys.stderr.write("usage: %s OUTDIR L2A|L1C\n" % argv[0])
        return 2
    print(make_product(argv[1], argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
