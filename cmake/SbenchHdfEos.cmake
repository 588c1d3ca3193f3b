# Finds Debian's HDF-EOS2 (on the HDF4 "alt" build GDAL also uses) and HDF-EOS5 libraries and sets
# SBENCH_HDFEOS_INCLUDES and SBENCH_HDFEOS_LIBS; required by the raster component (MODIS and Black
# Marble writers for synth and the tests).
find_path(SBENCH_HDFEOS2_INCLUDE HdfEosDef.h PATHS /usr/include/x86_64-linux-gnu/hdf /usr/include/hdf-eos
          PATH_SUFFIXES hdf)
find_path(SBENCH_HDF4_INCLUDE mfhdf.h PATHS /usr/include/hdf)
find_path(SBENCH_HDFEOS5_INCLUDE HE5_HdfEosDef.h PATHS /usr/include/hdf-eos5)
find_library(SBENCH_HDFEOS2_LIB hdfeos)
find_library(SBENCH_HDFEOS5_LIB he5_hdfeos)
find_library(SBENCH_GCTP_LIB gctp)
find_library(SBENCH_MFHDF_LIB NAMES mfhdfalt mfhdf)
find_library(SBENCH_DF_LIB NAMES dfalt df)
find_library(SBENCH_HDF5_HL_LIB NAMES hdf5_serial_hl hdf5_hl)
if(SBENCH_HDFEOS2_INCLUDE AND SBENCH_HDF4_INCLUDE AND SBENCH_HDFEOS5_INCLUDE AND SBENCH_HDFEOS2_LIB
   AND SBENCH_HDFEOS5_LIB AND SBENCH_GCTP_LIB AND SBENCH_MFHDF_LIB AND SBENCH_DF_LIB AND SBENCH_HDF5_HL_LIB)
  # Only the two writer sources see these headers: /usr/include/hdf-eos5 has a proj.h of its own
  # (GCTP's) that would shadow PROJ's.
  set(SBENCH_HDFEOS_INCLUDES ${SBENCH_HDFEOS2_INCLUDE} ${SBENCH_HDF4_INCLUDE} ${SBENCH_HDFEOS5_INCLUDE})
  set(SBENCH_HDFEOS_LIBS ${SBENCH_HDFEOS2_LIB} ${SBENCH_HDFEOS5_LIB} ${SBENCH_GCTP_LIB} ${SBENCH_MFHDF_LIB}
                         ${SBENCH_DF_LIB} ${SBENCH_HDF5_HL_LIB} HDF5::HDF5)
  message(STATUS "HDF-EOS2/5 writers: yes")
else()
  message(FATAL_ERROR "HDF-EOS2/5 libraries not found: install libhdfeos-dev libhe5-hdfeos-dev libhdf4-alt-dev "
                      "(scripts/setup.sh does), or configure with -DSBENCH_WITH_GDAL=OFF")
endif()
